// A home server in a child process started through the API with any options (given as JSON in argv[2]), for tests
// that need a limit the `homedb serve` flags do not expose (send timeouts, response sizes): prints
// `listening on URL`, then runs until SIGTERM (graceful close) or SIGKILL.
import { type HomeServerOptions, startHomeServer } from '@homedb/replication'

const options = JSON.parse(process.argv[2] ?? '{}') as HomeServerOptions
const server = await startHomeServer(options)
console.log(`listening on ${server.url} stop with SIGTERM`)
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0))
})
