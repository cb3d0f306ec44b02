// The seed's schedule of events for the fault phase: for each kind, a seeded number of events (its rate times the
// phase's length) at seeded instants. Each event picks its victim when it fires: a home or the directory loses power
// (at rest, or in the middle of one of its next file-system calls) or its process is killed, a writer loses power,
// a replica dies, a disk error is armed, a partition cuts two processes apart (both ways or one way) or isolates
// one, a process stalls (its waits and messages wait for it), the operator rotates a token, a mover starts moving a
// user (and may be killed or stalled mid-move).
import type { Rng } from '@homedb/testkit'
import type { Deployment } from './deployment.js'
import { MoveRun } from './mover.js'
import type { EventRates } from './sim-config.js'
import type { SimWorld } from './world.js'
import { WriterNode } from './writer-node.js'

type EventKind = Exclude<keyof EventRates, 'moverCrash'>

const KINDS: readonly EventKind[] = [
  'homeCrash',
  'homeRestart',
  'directoryCrash',
  'writerCrash',
  'writerTakeover',
  'replicaCrash',
  'diskFault',
  'partition',
  'pause',
  'moverPause',
  'rotation',
  'move',
]

/** How many events of a rate (per minute) fall in `ms`: the expectation, rounded at random. */
function count(rng: Rng, perMinute: number, ms: number): number {
  const expected = (perMinute * ms) / 60_000
  return Math.floor(expected) + (rng.next() < expected - Math.floor(expected) ? 1 : 0)
}

/** Schedules the whole fault phase of a run. */
export function scheduleFaults(world: SimWorld, deployment: Deployment): void {
  const rng = world.fork()
  const from = world.setupMs
  const to = world.healAt
  let moves = 0
  for (const kind of KINDS) {
    const n = count(rng, world.config.rates[kind], to - from)
    for (let i = 0; i < n; i++) {
      const at = rng.int(from, to - 1)
      const id = kind === 'move' ? ++moves : 0
      world.scheduler.task(at, async () => fire(world, deployment, kind, id))
    }
  }
}

async function fire(world: SimWorld, deployment: Deployment, kind: EventKind, id: number): Promise<void> {
  const rng = world.fork()
  switch (kind) {
    case 'homeCrash':
      return rng.pick(deployment.homes).powerCut(rng.chance(0.5))
    case 'homeRestart': {
      const home = rng.pick(deployment.homes)
      if (!home.up) return
      world.stats.faults['home-restart']++
      return home.restart('kill -9')
    }
    case 'directoryCrash':
      return deployment.directory.powerCut(rng.chance(0.5))
    case 'writerCrash': {
      // Not a machine that waits for its takeover's token rotation (it has not booted yet).
      const writers = deployment.writers.filter((w) => !w.retired && w.boot > 0)
      if (writers.length > 0) await rng.pick(writers).powerCut(rng.chance(0.5))
      return
    }
    case 'writerTakeover':
      return takeover(world, deployment, rng)
    case 'replicaCrash':
      if (deployment.replicas.length > 0) rng.pick(deployment.replicas).crash()
      return
    case 'diskFault':
      return rng.pick(deployment.machines()).diskFault()
    case 'partition':
      return partition(world, deployment, rng)
    case 'pause':
      return pause(world, rng.pick(deployment.processNames()), rng)
    case 'moverPause': {
      const movers = deployment.moves.filter((m) => m.outcome === 'running')
      if (movers.length > 0) pause(world, rng.pick(movers).name, rng)
      return
    }
    case 'rotation':
      await deployment.operator.rotate(rng.pick(deployment.users))
      return
    case 'move':
      return move(world, deployment, rng, id)
  }
}

/**
 * A new machine takes a user over (it restores the home's copy with homeSource): the old machine is lost with its
 * disk, or keeps running as a stale writer (one of the two then forks, and its shipper stops `diverged`). A lost
 * machine is fenced first, as the replication README says: the operator rotates the user's token, so an append the
 * old machine sent before it died and the network still carries is refused (`401`) instead of landing after the
 * restore (the new machine would then stop `diverged`: found by the simulation, long seeds 100021, 100258, 100537).
 */
async function takeover(world: SimWorld, deployment: Deployment, rng: Rng): Promise<void> {
  const user = rng.pick(deployment.users)
  const old = deployment.writerOf(user)
  const entry = await deployment.directory.entry(user).catch(() => undefined)
  const home = deployment.homes.find((h) => h.origin === entry?.home)
  const held = await home?.head(user).catch(() => undefined)
  if (old === undefined || held === undefined || held === null) return
  const stale = rng.chance(0.4)
  if (!stale) old.retire()
  const n = deployment.writers.filter((w) => w.user === user).length + 1
  const next = new WriterNode(world, user, `writer-${user}-${n}`, true)
  deployment.writers.push(next)
  world.stats.faults['writer-takeover']++
  world.trace.add(next.name, `takes ${user} over from ${old.name}${stale ? ' (which keeps running)' : ''}`)
  if (!stale) while (!(await deployment.operator.rotate(user))) {}
  await next.start()
}

function pause(world: SimWorld, name: string, rng: Rng): void {
  const until = world.scheduler.now + rng.int(50, 4_000)
  world.pause(name, until)
  world.stats.faults.pause++
  world.trace.add(name, `stalls until ${(until / 1000).toFixed(3)}`)
}

function partition(world: SimWorld, deployment: Deployment, rng: Rng): void {
  const names = deployment.processNames()
  const a = rng.pick(names)
  const others = names.filter((n) => n !== a)
  const until = world.scheduler.now + rng.int(300, 8_000)
  const kind = rng.int(0, 2)
  if (kind === 2) {
    for (const b of others) {
      world.network.block(a, b, until)
      world.network.block(b, a, until)
    }
    world.stats.faults.partition++
    world.trace.add('network', `${a} isolated until ${(until / 1000).toFixed(3)}`)
    return
  }
  const b = rng.pick(others)
  world.network.block(a, b, until)
  if (kind === 0) world.network.block(b, a, until)
  world.stats.faults[kind === 0 ? 'partition' : 'one-way-partition']++
  world.trace.add('network', `${a} ${kind === 0 ? '<->' : '->'} ${b} cut until ${(until / 1000).toFixed(3)}`)
}

async function move(world: SimWorld, deployment: Deployment, rng: Rng, id: number): Promise<void> {
  const user = rng.pick(deployment.users)
  const busy = deployment.moves.some((m) => m.user === user && m.outcome === 'running')
  if (busy && rng.chance(0.8)) return
  const entry = await deployment.directory.entry(user).catch(() => undefined)
  const targets = deployment.homes.filter((h) => h.origin !== entry?.home)
  const target = rng.pick(targets.length > 0 ? targets : deployment.homes)
  const run = new MoveRun(world, id, user, target.origin)
  deployment.moves.push(run)
  run.start()
  if (rng.chance(world.config.rates.moverCrash)) {
    world.scheduler.at(world.scheduler.now + rng.int(0, 6_000), () => {
      if (world.faulty) run.crash()
    })
  }
}
