// Every program under examples/ runs as a user would run it (a child process under tsx) and prints what it says it
// shows; the demo runs whole: homes, a replica, a live move, a kill -9 and the recovery of every acknowledged write.
// (examples/ is type-checked with everything else by `pnpm typecheck`.)
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'examples')

function run(file: string): string {
  const result = spawnSync(process.execPath, ['--conditions=@homedb/source', '--import', 'tsx', file], {
    cwd: EXAMPLES,
    encoding: 'utf8',
    timeout: 120_000,
  })
  if (result.status !== 0) throw new Error(`${file} exited ${result.status}:\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

describe('examples', () => {
  it('log.ts appends, reopens and verifies', () => {
    const out = run('log.ts')
    expect(out).toMatch(/^head: seq 1000, chain [0-9a-f]{16}$/m)
    expect(out).toContain('reopened at seq 1000; last commit: event 999')
    expect(out).toContain('verifyLog: ok=true')
  })

  it('tables.ts composes transactions, refuses bad input and replays', () => {
    const out = run('tables.ts')
    expect(out).toContain('created plan; /docs holds plan.md')
    expect(out).toContain('refused: docs cannot move below itself')
    expect(out).toContain('refused: TABLES_SCHEMA_REJECTED')
    expect(out).toMatch(/reopened at seq (\d+) \(was \1\): 3 files, plan\.md is 900 bytes/)
  })

  it('reactive.ts sees each commit in memory, then on disk', () => {
    const lines = run('reactive.ts').trim().split('\n')
    expect(lines).toEqual([
      'plan is now (absent)',
      'in memory  seq 2: plan = plan.md',
      'plan is now plan.md',
      'in memory  seq 3: plan = plan-v2.md',
      'plan is now plan-v2.md',
      'on disk    seq 2',
      'on disk    seq 3',
    ])
  })

  it('replica.ts tails the home and reaches the writer state', () => {
    const out = run('replica.ts')
    expect(out).toContain('replica seq 4: f2 (note-2.md)')
    expect(out).toContain('replica at seq 4, same state as the writer: true')
  })

  it('many-users.ts serves 20 users within 8 open dbs and delivers them all', () => {
    const out = run('many-users.ts')
    expect(out).toContain('20 users written; 8 dbs open now')
    expect(out).toMatch(/undelivered: 0$/m)
    expect(out).toContain('the home holds 20 users')
  })

  it('move-user.ts moves a user under writes, the replica follows', () => {
    const out = run('move-user.ts')
    expect(out).toMatch(/moved to http:\/\/127\.0\.0\.1:\d+: homeEpoch 2, writes paused [\d.]+ ms/)
    expect(out).toMatch(/replica at seq \d+, equal: true/)
  })

  it('the demo runs end to end and recovers every acknowledged write after kill -9', () => {
    const out = run('demo/demo.ts')
    for (let step = 1; step <= 6; step++) expect(out).toContain(`[${step}/6]`)
    expect(out).toMatch(/state hash ([0-9a-f]{16}) = writer's \1/)
    expect(out).toMatch(/homeEpoch now 2/)
    expect(out).toContain('the replica followed to home B')
    expect(out).toMatch(/state hash equal: true/)
    const recovered = /reopened from the log: (\d+) of (\d+) acknowledged writes present/.exec(out)
    expect(recovered?.[1]).toBe(recovered?.[2])
    expect(Number(recovered?.[2])).toBeGreaterThanOrEqual(200)
    expect(out).toMatch(/3 users delivered to their homes, 0 left on disk/)
  })
})
