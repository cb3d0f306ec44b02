// Following: a read-only db applies the commits of a source (a read-only log beside a writer, a replica's feed) as
// they come, and emits the writer's events for them. When the source no longer holds the commits it needs (the
// writer compacted), it reloads from the latest snapshot in one synchronous step and emits a reset event; a source
// that starts over (no snapshot, start 0) empties the tables. Errors stop following and go to `onError`.
import type { CommitSource } from '../commit-source.js'
import { TablesError, TablesReplayError, TablesSchemaError } from '../errors.js'
import type { AppliedSeq } from './applied-seq.js'
import { type BaseTable, RESET } from './base-table.js'
import type { CommitEvents } from './commit-events.js'
import { fromLogError } from './log-errors.js'
import { type ChangesOut, gapError, type Replay } from './replay.js'

/** What following needs: the db's tables, seq, replay state and events, and where its errors go. */
export interface FollowerDeps {
  readonly tables: ReadonlyMap<string, BaseTable>
  readonly seq: AppliedSeq
  readonly replay: Replay
  readonly events: CommitEvents
  readonly onError: (error: unknown) => void
  /** Tables the followed log may write that this schema lacks, to skip without a report (`dropTables`). */
  readonly ignored: readonly string[]
}

/** Follows one source; see the file header. */
export class Follower {
  readonly #deps: FollowerDeps
  /** Undeclared tables already reported to `onError` (or ignored from the start). */
  readonly #reported: Set<string>
  readonly #controller = new AbortController()
  #loop: Promise<void> | undefined

  constructor(deps: FollowerDeps) {
    this.#deps = deps
    this.#reported = new Set(deps.ignored)
  }

  /** Starts following `source` from the db's seq. */
  start(source: CommitSource): void {
    this.#loop = this.#follow(source)
  }

  /** Stops following and waits for the loop to end. */
  async stop(): Promise<void> {
    this.#controller.abort()
    await this.#loop
  }

  async #follow(source: CommitSource): Promise<void> {
    const signal = this.#controller.signal
    const seq = this.#deps.seq
    while (!signal.aborted) {
      try {
        for await (const commit of source.tail({ from: seq.value, signal })) {
          if (commit.seq <= seq.value) continue
          if (commit.seq !== seq.value + 1) throw gapError(commit.seq, seq.value, 'followed commits')
          this.#apply(commit)
        }
        return
      } catch (error) {
        if (signal.aborted) return
        let failure = error
        if ((error as { code?: unknown } | null)?.code === 'LOG_NEED_SNAPSHOT') {
          try {
            await this.#reload(source)
            continue
          } catch (reloadError) {
            failure = reloadError
          }
        }
        this.#deps.onError(failure instanceof TablesError ? failure : fromLogError(failure))
        return
      }
    }
  }

  /** Applies one followed commit and emits its event (a reset if it emptied a table the schema declares). */
  #apply(commit: { readonly seq: number; readonly payload: Uint8Array }): void {
    const { replay, events } = this.#deps
    const listening = events.listening
    const out: ChangesOut | undefined = listening ? {} : undefined
    replay.takeDroppedKnown()
    replay.applyCommit(commit.payload, commit.seq, out)
    this.#deps.seq.advance(commit.seq)
    this.#reportUnknown(commit.seq)
    if (!listening) return
    if (replay.takeDroppedKnown()) events.commit({ seq: commit.seq, changes: {}, reset: true })
    else events.commit({ seq: commit.seq, changes: out! })
  }

  /** Reports each table the followed log writes that this schema lacks, once; its commits are skipped here. */
  #reportUnknown(seq: number): void {
    for (const name of this.#deps.replay.unknown.keys()) {
      if (this.#reported.has(name)) continue
      this.#reported.add(name)
      this.#deps.onError(
        new TablesSchemaError(
          'TABLES_UNKNOWN_TABLE',
          `the followed log writes table "${name}", which this schema does not declare; its commits are skipped here`,
          { tables: [name], seq },
        ),
      )
    }
  }

  /** Reloads the state from the source's latest snapshot (or starts over) and emits a reset event. */
  async #reload(source: CommitSource): Promise<void> {
    const { tables, seq, replay, events } = this.#deps
    const snapshot = await source.latestSnapshot()
    if (snapshot === undefined && source.start.seq === 0) {
      // A source with no snapshot that starts at the beginning (a replica told its history changed): start over.
      for (const table of tables.values()) table[RESET]()
      seq.replaced(0)
      events.commit({ seq: 0, changes: {}, reset: true })
      return
    }
    if (snapshot === undefined) {
      throw new TablesReplayError('the followed log released commits but has no snapshot to reload from', {
        seq: seq.value,
      })
    }
    await replay.applySnapshot(snapshot, true)
    seq.replaced(snapshot.seq)
    events.commit({ seq: seq.value, changes: {}, reset: true })
  }
}
