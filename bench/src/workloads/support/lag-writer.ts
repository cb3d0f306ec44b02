// The writer process of the replication workload: a separate Node process (so the follower shares nothing with it
// but the files) that opens a homedb db and writes commits on command from its parent over IPC, each stamped with
// the wall-clock time of its in-memory commit.
import { openDb } from '@homedb/tables'
import { smallRecords } from '../../records.js'
import { LagSchema, type LagWriterCommand, type LagWriterReply, wallClockMs } from './lag-protocol.js'

const dir = process.argv[2]
if (dir === undefined) throw new Error('usage: lag-writer <dir>')

const send = (reply: LagWriterReply): void => {
  process.send?.(reply)
}
const db = await openDb(LagSchema, { dir, durability: 'fsync', autoCompact: false })
const records = smallRecords(1_000)
let next = 0

/** One single-row commit: a new key, stamped with the time it was committed in this process's memory. */
function commit(): number {
  const key = next++
  db.events.insert(key, { t: wallClockMs(), record: records[key % records.length]! })
  return db.seq
}

async function steady(count: number, intervalMs: number): Promise<number> {
  let seq = 0
  for (let i = 0; i < count; i++) {
    seq = commit()
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  await db.sync()
  return seq
}

async function burst(count: number): Promise<{ seq: number; startMs: number; endMs: number }> {
  const startMs = wallClockMs()
  let seq = 0
  for (let i = 0; i < count; ) {
    // A thousand commits per event-loop turn: each is its own commit frame; group commit writes them together.
    for (const end = Math.min(count, i + 1_000); i < end; i++) seq = commit()
    await new Promise((resolve) => setImmediate(resolve))
  }
  await db.sync()
  return { seq, startMs, endMs: wallClockMs() }
}

process.on('message', (message) => {
  const command = message as LagWriterCommand
  const run = async (): Promise<void> => {
    switch (command.type) {
      case 'steady':
        send({ type: 'done', seq: await steady(command.count, command.intervalMs) })
        break
      case 'burst': {
        const { seq, startMs, endMs } = await burst(command.count)
        send({ type: 'done', seq, startMs, endMs })
        break
      }
      case 'close':
        await db.close()
        send({ type: 'closed' })
        process.disconnect?.()
        break
    }
  }
  run().catch((error: unknown) => {
    send({ type: 'error', message: String(error) })
    process.exitCode = 1
  })
})
send({ type: 'ready', seq: db.seq })
