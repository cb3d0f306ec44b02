// A throwaway certificate authority and a server certificate for 127.0.0.1, made at test time with the openssl
// command (on every machine that runs these tests; nothing to install, no key material in the repository). The
// tests fail loudly if openssl is missing: TLS is never skipped.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** PEM files of a test CA and of a server certificate it signed (SAN 127.0.0.1 and localhost). */
export interface TestCa {
  readonly caPath: string
  readonly certPath: string
  readonly keyPath: string
  readonly ca: Buffer
  readonly cert: Buffer
  readonly key: Buffer
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Makes the CA and the server certificate in `dir` (which must exist); valid for one day. */
export function makeTestCa(dir: string): TestCa {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=homedb test CA',
  ])
  openssl(dir, ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
  writeFileSync(
    join(dir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  )
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
  ])
  const caPath = join(dir, 'ca.pem')
  const certPath = join(dir, 'server.pem')
  const keyPath = join(dir, 'server.key')
  return {
    caPath,
    certPath,
    keyPath,
    ca: readFileSync(caPath),
    cert: readFileSync(certPath),
    key: readFileSync(keyPath),
  }
}
