// The messages the demo and its app process exchange over the IPC channel (process.send).

/** What the demo asks the app to do. */
export type AppCommand =
  | { readonly cmd: 'burst'; readonly rounds: number }
  | { readonly cmd: 'load'; readonly user: string; readonly prefix: string }
  | { readonly cmd: 'stop-load' }
  | { readonly cmd: 'flush' }
  | { readonly cmd: 'close' }

/** What the app reports. */
export type AppMessage =
  | { readonly type: 'ready' }
  | {
      readonly type: 'burst'
      readonly requests: number
      readonly p50: number
      readonly p99: number
      readonly refused: Readonly<Record<string, number>>
    }
  | { readonly type: 'acked'; readonly user: string; readonly id: string }
  | { readonly type: 'flushed'; readonly users: Readonly<Record<string, { seq: number; stateHash: string }>> }
  | { readonly type: 'closed'; readonly delivered: number; readonly undelivered: number }
  | { readonly type: 'error'; readonly message: string }
