// The shipper's and the replica's client logic as explicit state machines. Each transition table is a
// `Record<State, Record<Event, State | null>>`: the compiler proves every state answers every event (`null`: the
// event cannot happen in that state and is ignored). PROTOCOL.md prints the same tables.

/** States of a shipper (see PROTOCOL.md, "Shipper"). */
export type ShipperState =
  | 'connecting'
  | 'shipping'
  | 'idle'
  | 'backoff'
  | 'diverged'
  | 'incompatible'
  | 'failed'
  | 'closed'

/** What moves a shipper from state to state. */
export type ShipperEvent =
  | 'resolved'
  | 'commit'
  | 'acked'
  | 'caught-up'
  | 'conflict'
  | 'net-error'
  | 'retry'
  | 'diverged'
  | 'incompatible'
  | 'fatal'
  | 'close'

const shipperTerminal = (state: ShipperState): Record<ShipperEvent, ShipperState | null> => ({
  resolved: null,
  commit: null,
  acked: null,
  'caught-up': null,
  conflict: null,
  'net-error': null,
  retry: null,
  diverged: null,
  incompatible: null,
  fatal: null,
  close: state === 'closed' ? null : 'closed',
})

/** The shipper's transitions. */
export const SHIPPER_TRANSITIONS: Readonly<Record<ShipperState, Readonly<Record<ShipperEvent, ShipperState | null>>>> =
  {
    connecting: {
      resolved: 'shipping',
      commit: null,
      acked: null,
      'caught-up': 'idle',
      conflict: 'connecting',
      'net-error': 'backoff',
      retry: null,
      diverged: 'diverged',
      incompatible: 'incompatible',
      fatal: 'failed',
      close: 'closed',
    },
    shipping: {
      resolved: null,
      commit: null,
      acked: 'shipping',
      'caught-up': 'idle',
      conflict: 'connecting',
      'net-error': 'backoff',
      retry: null,
      diverged: 'diverged',
      incompatible: 'incompatible',
      fatal: 'failed',
      close: 'closed',
    },
    idle: {
      resolved: null,
      commit: 'shipping',
      acked: null,
      'caught-up': null,
      conflict: 'connecting',
      'net-error': 'backoff',
      retry: null,
      diverged: 'diverged',
      incompatible: 'incompatible',
      fatal: 'failed',
      close: 'closed',
    },
    backoff: {
      resolved: null,
      commit: null,
      acked: null,
      'caught-up': null,
      conflict: null,
      'net-error': null,
      retry: 'connecting',
      diverged: null,
      incompatible: null,
      fatal: 'failed',
      close: 'closed',
    },
    diverged: shipperTerminal('diverged'),
    incompatible: shipperTerminal('incompatible'),
    failed: shipperTerminal('failed'),
    closed: shipperTerminal('closed'),
  }

/** States of a replica's network source (see PROTOCOL.md, "Replica"). */
export type ReplicaState = 'bootstrapping' | 'catching-up' | 'live' | 'reloading' | 'backoff' | 'failed' | 'closed'

/** What moves a replica from state to state. */
export type ReplicaEvent = 'loaded' | 'frames' | 'at-head' | 'reset' | 'net-error' | 'retry' | 'fatal' | 'close'

/** The replica's transitions. */
export const REPLICA_TRANSITIONS: Readonly<Record<ReplicaState, Readonly<Record<ReplicaEvent, ReplicaState | null>>>> =
  {
    bootstrapping: {
      loaded: 'catching-up',
      frames: null,
      'at-head': null,
      reset: 'reloading',
      'net-error': 'backoff',
      retry: null,
      fatal: 'failed',
      close: 'closed',
    },
    'catching-up': {
      loaded: null,
      frames: 'catching-up',
      'at-head': 'live',
      reset: 'reloading',
      'net-error': 'backoff',
      retry: null,
      fatal: 'failed',
      close: 'closed',
    },
    live: {
      loaded: null,
      frames: 'live',
      'at-head': 'live',
      reset: 'reloading',
      'net-error': 'backoff',
      retry: null,
      fatal: 'failed',
      close: 'closed',
    },
    reloading: {
      loaded: 'catching-up',
      frames: null,
      'at-head': null,
      reset: 'reloading',
      'net-error': 'backoff',
      retry: null,
      fatal: 'failed',
      close: 'closed',
    },
    backoff: {
      loaded: null,
      frames: null,
      'at-head': null,
      reset: null,
      'net-error': null,
      retry: 'catching-up',
      fatal: 'failed',
      close: 'closed',
    },
    failed: {
      loaded: null,
      frames: null,
      'at-head': null,
      reset: null,
      'net-error': null,
      retry: null,
      fatal: null,
      close: 'closed',
    },
    closed: {
      loaded: null,
      frames: null,
      'at-head': null,
      reset: null,
      'net-error': null,
      retry: null,
      fatal: null,
      close: null,
    },
  }
