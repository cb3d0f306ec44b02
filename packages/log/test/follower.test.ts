// What a read-only log does besides following (lock-and-follow.test.ts covers following itself): it keeps its
// process alive until it is closed, reports every failed look through `onError` (or once per run of failures as a
// process warning) while it keeps looking, and shows as `durable` what it has read.
import { FaultyFileLayer, tempDir } from '@homedb/testkit'
import { describe, expect, it } from 'vitest'
import { type Log, LogIOError, nodeFileLayer, openLog } from '../src/index.js'
import { runFixture } from './support/run-fixture.js'
import { bytes } from './support/text-commits.js'

/** Resolves once `log` has seen seq `seq`. */
function reached(log: Log, seq: number): Promise<void> {
  return new Promise((resolve) => {
    if (log.head.seq >= seq) return resolve()
    const off = log.onAppend((head) => {
      if (head.seq < seq) return
      off()
      resolve()
    })
  })
}

/** A writer with one commit, and a follower on a file layer whose directory listings can be made to fail. */
async function writerAndFollower(onError?: (error: Error) => void) {
  const dir = tempDir('follow')
  const writer = await openLog(dir, { durability: 'os' })
  writer.append(bytes('one'))
  await writer.sync()
  const layer = new FaultyFileLayer(nodeFileLayer)
  const follower = await openLog(dir, {
    readOnly: true,
    followIntervalMs: 5,
    fileLayer: layer,
    ...(onError ? { onError } : {}),
  })
  return { writer, follower, layer }
}

describe('a read-only log’s follow timer', () => {
  it('keeps a process with nothing else to do alive while the log is open, and lets it exit once closed', async () => {
    const dir = tempDir('follow')
    await (await openLog(dir)).close()
    let opened!: () => void
    let looked!: () => void
    const open = new Promise<void>((r) => (opened = r))
    const fiveLooks = new Promise<void>((r) => (looked = r))
    const lines: string[] = []
    const child = runFixture('follow-until-close.ts', [dir], (line) => {
      lines.push(line)
      if (line === 'open') opened()
      if (line === 'look 5') looked()
    })
    await open
    // Five looks, 10 ms apart, after the open returned: only the log's timer was there to keep the process going.
    const first = await Promise.race([fiveLooks.then(() => 'five looks'), child.closed.then(() => 'exit')])
    expect(first, 'the process exited while its read-only log was open').toBe('five looks')
    const writer = await openLog(dir)
    writer.append(bytes('wake up'))
    await writer.close()
    const { code, signal, stderr } = await child.closed
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' })
    expect(lines.at(-1)).toBe('closed')
  }, 30_000)
})

describe('a read-only log whose looks fail', () => {
  it('reports each failed look to onError with the count so far, keeps looking, and follows again once it works', async () => {
    const errors: Error[] = []
    let threeFailed!: () => void
    const failed = new Promise<void>((r) => (threeFailed = r))
    const { writer, follower, layer } = await writerAndFollower((error) => {
      errors.push(error)
      if (errors.length === 3) threeFailed()
    })
    const fault = layer.arm({ op: 'readdir', code: 'EIO', persistent: true })
    await failed
    fault.disarm()
    for (const [i, error] of errors.slice(0, 3).entries()) {
      expect(error).toBeInstanceOf(LogIOError)
      expect((error as LogIOError).context).toMatchObject({ operation: 'follow', osCode: 'EIO', failures: i + 1 })
    }
    writer.append(bytes('two'))
    await writer.sync()
    await reached(follower, 2)
    expect(follower.head).toEqual(writer.head)
    await Promise.all([writer.close(), follower.close()])
  })

  it('without onError, emits one process warning per run of failed looks', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      const { writer, follower, layer } = await writerAndFollower()
      for (let run = 1; run <= 2; run++) {
        let thirdCall!: () => void
        const calls = new Promise<void>((r) => (thirdCall = r))
        let seen = 0
        layer.onCall = (call) => {
          if (call.op === 'readdir' && ++seen === 3) thirdCall()
        }
        const fault = layer.arm({ op: 'readdir', code: 'EIO', persistent: true })
        // The third look has started: the first two failed (and were reported, or not) before it.
        await calls
        fault.disarm()
        layer.onCall = undefined
        writer.append(bytes(`after run ${run}`))
        await writer.sync()
        await reached(follower, writer.head.seq)
        expect(warnings.filter((w) => w instanceof LogIOError)).toHaveLength(run)
      }
      await Promise.all([writer.close(), follower.close()])
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('Log.durable', () => {
  it('is what a read-only log has read: the same as its head', async () => {
    const { writer, follower } = await writerAndFollower()
    writer.append(bytes('two'))
    await writer.sync()
    await reached(follower, 2)
    expect(follower.durable).toEqual(follower.head)
    await Promise.all([writer.close(), follower.close()])
  })
})
