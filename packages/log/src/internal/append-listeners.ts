// The `onAppend` listeners of one log, told the written position after each batch (writer), each look that moved
// the head (read-only follower) or each turn with appends (memory). A throwing listener never stops the others:
// its error is rethrown on its own, outside the log.
import type { Position } from '../types.js'
import { chainToHex } from './format.js'
import type { LogPositions } from './positions.js'

/** See the file header. */
export class AppendListeners {
  readonly #positions: LogPositions
  readonly #listeners = new Set<(head: Position) => void>()

  constructor(positions: LogPositions) {
    this.#positions = positions
  }

  /** Adds `listener`; returns the function that removes it. */
  add(listener: (head: Position) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /** Tells every listener the written position. */
  notify(): void {
    if (this.#listeners.size === 0) return
    const { seq, chain } = this.#positions.written
    const head = { seq, chain: chainToHex(chain) }
    for (const listener of [...this.#listeners]) {
      try {
        listener(head)
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }
}
