// What one simulation run looks like, chosen by its seed: how many homes, users and replicas, how long the faults
// last, the network's fault mix and how often each kind of event happens. Two profiles: `short` (the bounded sample
// `pnpm test` runs in seconds) and `long` (campaigns: `pnpm torture --sim`).
import type { Rng } from '@homedb/testkit'
import type { NetworkFaults } from './network.js'

/** How long and how busy runs are. */
export type SimProfile = 'short' | 'long'

/** Events per simulated minute of the fault phase, by kind. */
export interface EventRates {
  readonly homeCrash: number
  readonly homeRestart: number
  readonly directoryCrash: number
  readonly writerCrash: number
  /** A new machine takes a user over (restoring the home's copy); the old one is lost, or keeps running stale. */
  readonly writerTakeover: number
  readonly replicaCrash: number
  readonly diskFault: number
  readonly partition: number
  /** A process stalls (a GC pause, a stopped VM) for up to 4 s. */
  readonly pause: number
  /** A running mover stalls (so a lease can run out under it). */
  readonly moverPause: number
  readonly rotation: number
  readonly move: number
  /** Movers killed while they run (a chance per move, not a rate). */
  readonly moverCrash: number
}

/** One run's shape. */
export interface SimConfig {
  readonly profile: SimProfile
  readonly homes: number
  readonly users: number
  readonly replicasPerUser: number
  /** Virtual ms of the fault phase (writers commit, faults happen); then everything heals. */
  readonly faultMs: number
  /** Virtual ms after the heal within which every commit must reach its home and every replica (liveness). */
  readonly healBoundMs: number
  /** Mean virtual ms between two commits of a writer. */
  readonly commitEveryMs: number
  /** The range of freeze leases movers ask for, ms. */
  readonly moveLeaseMs: readonly [number, number]
  readonly network: NetworkFaults
  readonly rates: EventRates
}

/** Liveness bound after the heal, virtual ms: tests/sim/README.md says why it is ample. */
export const HEAL_BOUND_MS = 180_000

/** A run's shape from its seed. */
export function chooseConfig(rng: Rng, profile: SimProfile): SimConfig {
  const calm = rng.chance(0.15)
  const scale = calm ? 0.2 : rng.pick([0.5, 1, 1.5])
  return {
    profile,
    homes: rng.int(2, 3),
    users: profile === 'short' ? rng.int(1, 2) : rng.int(1, 3),
    replicasPerUser: rng.int(profile === 'short' ? 0 : 1, 2),
    faultMs: profile === 'short' ? rng.int(8, 15) * 1000 : rng.int(30, 90) * 1000,
    healBoundMs: HEAL_BOUND_MS,
    commitEveryMs: rng.pick([60, 150, 400]),
    moveLeaseMs: [300, 3_000],
    network: {
      dropRequest: 0.02 * scale,
      dropResponse: 0.02 * scale,
      duplicate: 0.02 * scale,
      spike: 0.04 * scale,
      corrupt: 0.01 * scale,
      cut: 0.01 * scale,
    },
    rates: {
      homeCrash: 1.5 * scale,
      homeRestart: 1 * scale,
      directoryCrash: 0.6 * scale,
      writerCrash: 1.5 * scale,
      writerTakeover: 0.5 * scale,
      replicaCrash: 1 * scale,
      diskFault: 1 * scale,
      partition: 2 * scale,
      pause: 2 * scale,
      moverPause: 1 * scale,
      rotation: 0.8 * scale,
      move: 3,
      moverCrash: 0.15 * scale,
    },
  }
}
