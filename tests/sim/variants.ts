// Deliberately broken variants of the deployment, built here in the harness and never in the packages: they prove
// the simulation can fail. Each breaks one guarantee the way a real bug would, and a test asserts the simulation
// catches it within a bounded number of seeds:
// - `lying-disk`: the homes' fdatasync acknowledges without making anything durable (a home that acks before its
//   data is on disk). A power cut then loses acknowledged appends.
// - `blind-switch`: the mover's directory client skips the epoch check of its compare-and-set (it writes its switch
//   over whatever epoch the entry reached). A source that took its user back when its lease ran out then shares the
//   epoch with the target: two homes accept writes under one homeEpoch.
// - `forging-network`: a network that alters a commit's payload in transit and re-seals the frame (length, CRC and
//   chain recomputed), so no frame check can see it: a home stores a frame the writer never wrote.
import { type Directory, openDirectory } from '@homedb/replication'
import type { Rng } from '@homedb/testkit'
import type { Tamper } from './network.js'
import type { SimConfig } from './sim-config.js'
import { readFrames, resealed } from './wire-frames.js'
import { ADMIN_TOKEN, DIRECTORY_ORIGIN, type Incarnation, type VariantName } from './world.js'

/** A directory client whose compare-and-set ignores the expected epoch (it uses whatever epoch the entry has). */
export function blindSwitchDirectory(life: Incarnation): Directory {
  const real = openDirectory(DIRECTORY_ORIGIN, {
    adminToken: ADMIN_TOKEN,
    transport: life.transport,
    clock: life.clock,
    random: life.random,
  })
  return {
    lookup: (user) => real.lookup(user),
    register: (user, home) => real.register(user, home),
    list: () => real.list(),
    watch: (listener, options) => real.watch(listener, options),
    tokenKey: () => real.tokenKey(),
    close: () => real.close(),
    async compareAndSet(user, expectedEpoch, next) {
      const current = await real.lookup(user)
      const epoch = current?.homeEpoch ?? expectedEpoch
      const blind = epoch === next.homeEpoch || epoch + 1 === next.homeEpoch ? epoch : expectedEpoch
      return real.compareAndSet(user, blind, next)
    },
  }
}

/** A network that forges commits in append bodies: one bit of a payload flipped, the frames re-sealed. */
export function forgingNetwork(rng: Rng, probability: number): Tamper {
  return async (body, where, url, headers) => {
    if (where !== 'request' || !url.pathname.endsWith('/append') || !rng.chance(probability)) return undefined
    const frames = readFrames(body)
    const position = (headers['homedb-position'] ?? '').split(':')
    if (frames.length === 0 || position.length !== 3) return undefined
    const index = rng.int(0, frames.length - 1)
    const payload = Uint8Array.from(frames[index]!.payload)
    if (payload.byteLength === 0) return undefined
    payload[payload.byteLength - 1] = payload[payload.byteLength - 1]! ^ 1
    return resealed(body, position[2]!, index, payload)
  }
}

/** The run's shape for a variant: more of the events that expose it. */
export function variantConfig(config: SimConfig, variant: VariantName): SimConfig {
  if (variant === 'lying-disk') return { ...config, homes: 2, rates: { ...config.rates, homeCrash: 8, move: 1 } }
  if (variant === 'blind-switch') {
    // Movers that stall between their freeze and their switch: the source's lease runs out under them.
    return {
      ...config,
      network: { ...config.network, dropRequest: 0, dropResponse: 0, cut: 0 },
      rates: {
        ...config.rates,
        move: 20,
        moverPause: 40,
        moverCrash: 0,
        homeCrash: 0,
        directoryCrash: 0,
        partition: 0,
      },
    }
  }
  return config
}
