// What a user's first script does with the published packages: copied into a fresh npm project that installed the
// packed tarballs, and run there with plain `node` (no loader, no workspace), it imports each package by its
// public name and uses it. Exits non-zero on the first failed assertion; prints one line per package.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openLog } from '@homedb/log'
import { changes } from '@homedb/reactive'
import * as replication from '@homedb/replication'
import { lookupTable, openDb, schema } from '@homedb/tables'

const root = mkdtempSync(path.join(os.tmpdir(), 'homedb-installed-check-'))
const text = new TextEncoder()
const untext = new TextDecoder()

try {
  // @homedb/log: durable appends survive close and reopen, and read back in order.
  const logDir = path.join(root, 'log')
  const log = await openLog(logDir, { durability: 'fsync' })
  assert.equal(log.append(text.encode('hello')), 1)
  assert.equal(log.append(text.encode('world')), 2)
  await log.sync()
  await log.close()
  const reopened = await openLog(logDir, { durability: 'fsync' })
  assert.equal(reopened.head.seq, 2)
  const read = []
  for await (const commit of reopened.read({ from: 0 })) read.push([commit.seq, untext.decode(commit.payload)])
  assert.deepEqual(read, [
    [1, 'hello'],
    [2, 'world'],
  ])
  const position = replication.headPosition(reopened)
  await reopened.close()
  console.log('@homedb/log ok')

  // @homedb/tables: a lookupTable written, closed, reopened from disk and read.
  const Core = schema({ files: lookupTable() })
  const dbDir = path.join(root, 'db')
  const db = await openDb(Core, { dir: dbDir })
  db.files.insert('a', { name: 'a.txt', size: 1 })
  await db.transaction(() => {
    db.files.insert('b', { name: 'b.txt', size: 2 })
  })
  await db.close()
  const again = await openDb(Core, { dir: dbDir })
  assert.deepEqual(again.files.get('a'), { name: 'a.txt', size: 1 })
  assert.deepEqual(again.files.get('b'), { name: 'b.txt', size: 2 })
  assert.equal(again.files.size, 2)
  console.log('@homedb/tables ok')

  // @homedb/reactive: a changes() subscriber sees one emission for a committed transaction, with the new value.
  const seen = []
  const subscription = changes(again.files).subscribe((event) => seen.push(event))
  await again.transaction(() => {
    again.files.insert('c', { name: 'c.txt', size: 3 })
  })
  subscription.unsubscribe()
  assert.equal(seen.length, 1)
  assert.equal(seen[0].seq, again.seq)
  assert.deepEqual(
    seen[0].changes.map((c) => [c.op, c.key, c.value]),
    [['set', 'c', { name: 'c.txt', size: 3 }]],
  )
  await again.close()
  console.log('@homedb/reactive ok')

  // @homedb/replication: positions of a real log parse and relate. This check grows with the package's API.
  assert.deepEqual(replication.parsePosition(JSON.parse(JSON.stringify(position))), position)
  const follower = await openLog(logDir, { durability: 'fsync' })
  assert.equal(await replication.relatePosition(follower, position), 'same')
  assert.equal(await replication.relatePosition(follower, { ...position, logId: '0'.repeat(32) }), 'incompatible')
  await follower.close()
  console.log('@homedb/replication ok')
} finally {
  rmSync(root, { recursive: true, force: true })
}
