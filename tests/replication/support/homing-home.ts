// A home server of a deployment, as a child process for the homing crash tests: `startHomeServer` with a directory
// and an audit file that gets one JSON line per append the home accepted (written before the append is
// acknowledged, so a kill -9 never loses a line of an acknowledged append).
// Usage: homing-home.ts DATA_DIR PORT ADMIN_TOKEN DIRECTORY AUDIT_FILE MAX_LEASE_MS
import { appendFileSync } from 'node:fs'
import { startHomeServer } from '@homedb/replication'

const [dataDir, port, adminToken, directory, auditFile, leaseMs] = process.argv.slice(2)
const server = await startHomeServer({
  dataDir: dataDir!,
  port: Number(port),
  adminToken: adminToken!,
  directory: directory!.startsWith('etcd://') ? { etcd: { hosts: directory!.slice(7).split(',') } } : directory!,
  maxLeaseMs: Number(leaseMs),
  reconcileIntervalMs: 300,
  onAccepted: (a) => appendFileSync(auditFile!, `${JSON.stringify({ ...a, home: dataDir })}\n`),
})
console.log(`homing home listening on ${server.url}`)
console.log('stop with SIGTERM')
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)))
