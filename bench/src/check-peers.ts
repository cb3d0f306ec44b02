// Loads and exercises every peer the benchmarks compare against, and fails loudly if one is missing or its native
// module did not build: pnpm 10 skips install scripts it was not told to run, so a broken peer is otherwise silent.
// Run alone with `pnpm --filter @homedb/bench check-peers`; `pnpm bench` runs it first.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** The outcome of checking one peer. */
export interface PeerCheck {
  readonly name: string
  /** True when the peer relies on a compiled native module. */
  readonly native: boolean
  readonly ok: boolean
  /** A version or a short proof of life on success, the error otherwise. */
  readonly detail: string
}

interface PeerProbe {
  readonly name: string
  readonly native: boolean
  probe(dir: string): Promise<string>
}

const PROBES: readonly PeerProbe[] = [
  {
    name: 'better-sqlite3',
    native: true,
    async probe(dir) {
      const { default: Database } = await import('better-sqlite3')
      const db = new Database(join(dir, 'check.sqlite'))
      try {
        db.pragma('journal_mode = WAL')
        db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)')
        db.prepare('INSERT INTO t VALUES (?, ?)').run('a', 'b')
        const row = db.prepare('SELECT sqlite_version() AS version, v FROM t').get() as { version: string; v: string }
        if (row.v !== 'b') throw new Error('read back the wrong value')
        return `SQLite ${row.version}`
      } finally {
        db.close()
      }
    },
  },
  {
    name: 'lmdb',
    native: true,
    async probe(dir) {
      const { open } = await import('lmdb')
      const db = open<{ v: number }, string>({ path: join(dir, 'check.mdb'), encoding: 'msgpack' })
      try {
        await db.put('a', { v: 1 })
        if (db.get('a')?.v !== 1) throw new Error('read back the wrong value')
        return 'put/get ok'
      } finally {
        await db.close()
      }
    },
  },
  {
    name: 'msgpackr-extract (msgpackr native acceleration)',
    native: true,
    async probe() {
      const msgpackr = await import('msgpackr')
      const value = { text: 'a string long enough to use the native extractor', n: 1 }
      const back = msgpackr.unpack(msgpackr.pack(value)) as typeof value
      if (back.text !== value.text) throw new Error('round trip changed the value')
      if (!msgpackr.isNativeAccelerationEnabled) {
        throw new Error('msgpackr loaded without msgpackr-extract: decoding would silently run the slower JS path')
      }
      return 'native extractor enabled'
    },
  },
  {
    name: 'lowdb',
    native: false,
    async probe(dir) {
      const { JSONFilePreset } = await import('lowdb/node')
      const db = await JSONFilePreset<{ rows: number[] }>(join(dir, 'check.json'), { rows: [] })
      await db.update(({ rows }) => rows.push(1))
      const again = await JSONFilePreset<{ rows: number[] }>(join(dir, 'check.json'), { rows: [] })
      if (again.data.rows[0] !== 1) throw new Error('read back the wrong value')
      return 'write/read ok'
    },
  },
  {
    name: 'tinybase',
    native: false,
    async probe(dir) {
      const { createStore } = await import('tinybase')
      const { createFilePersister } = await import('tinybase/persisters/persister-file')
      const store = createStore().setRow('t', 'a', { v: 1 })
      const persister = createFilePersister(store, join(dir, 'check.json'))
      await persister.save()
      const other = createStore()
      const reader = createFilePersister(other, join(dir, 'check.json'))
      await reader.load()
      await persister.destroy()
      await reader.destroy()
      if (other.getCell('t', 'a', 'v') !== 1) throw new Error('read back the wrong value')
      return 'file persister ok'
    },
  },
  {
    name: 'lokijs',
    native: false,
    async probe(dir) {
      const { default: Loki } = await import('lokijs')
      const file = join(dir, 'check.db')
      const db = new Loki(file, { adapter: new Loki.LokiFsAdapter() })
      db.addCollection<{ k: string }>('t').insert({ k: 'a' })
      await new Promise<void>((resolve, reject) => db.saveDatabase((err) => (err ? reject(err) : resolve())))
      await new Promise<void>((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())))
      return 'fs adapter ok'
    },
  },
]

/** Loads and exercises every peer; never throws, reports each one. */
export async function checkPeers(): Promise<PeerCheck[]> {
  const results: PeerCheck[] = []
  for (const peer of PROBES) {
    const dir = mkdtempSync(join(os.tmpdir(), 'homedb-check-peers-'))
    try {
      results.push({ name: peer.name, native: peer.native, ok: true, detail: await peer.probe(dir) })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      results.push({ name: peer.name, native: peer.native, ok: false, detail: message })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return results
}

/** Prints the checks; returns false (after naming each broken peer on stderr) if any failed. */
export function reportPeerChecks(checks: readonly PeerCheck[]): boolean {
  for (const check of checks) {
    const line = `${check.ok ? 'ok  ' : 'FAIL'} ${check.name}${check.native ? ' [native]' : ''}: ${check.detail}`
    if (check.ok) console.log(line)
    else console.error(line)
  }
  const failed = checks.filter((c) => !c.ok)
  if (failed.length === 0) return true
  console.error(
    `\nPeer check failed for: ${failed.map((c) => c.name).join(', ')}.\n` +
      'A native module that did not build usually means pnpm skipped its install script: make sure it is listed in ' +
      '`onlyBuiltDependencies` (pnpm-workspace.yaml) and run `npx -y pnpm@10.34.8 install` again ' +
      '(or `npx -y pnpm@10.34.8 rebuild <package>`).',
  )
  return false
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const ok = reportPeerChecks(await checkPeers())
  process.exit(ok ? 0 : 1)
}
