// moveUser's contract on failure: it rejects with a MoveError saying what is true now, even when the very first
// step, the directory lookup, cannot be made (found by the simulation, tests/sim/: a lookup that failed leaked the
// mover's internal error instead).
import { describe, expect, it } from 'vitest'
import { MoveError, moveUser } from '../src/index.js'
import { MemoryDirectory } from './support/memory-directory.js'

describe('moveUser failures', () => {
  it('rejects with a MoveError (step lookup, aborted) when the directory does not answer the lookup', async () => {
    const directory = new MemoryDirectory()
    await directory.register('alice', 'http://a.test')
    directory.down = true
    const error = await moveUser({ directory, user: 'alice', to: 'http://b.test', adminToken: 'admin-token-for-tests' })
      .then(() => undefined)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MoveError)
    expect((error as MoveError).context).toMatchObject({ step: 'lookup', outcome: 'aborted' })
    expect(directory.refusals).toBe(1)
  })
})
