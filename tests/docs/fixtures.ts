// What a prelude (preludes/<package>.ts) is made of: fixtures, the names a package's examples may use without
// defining them (`db`, `Core`, `log`, `notifyOtherDevices` …), each made on first use in the program's own temporary
// directory and closed after it, and the type a program sees them as.
import { join } from 'node:path'

/** What a fixture is made with: the program's directory, the other fixtures, and a place to put cleanups. */
export interface DocContext {
  /** The program's temporary directory: `./data/…` in an example means `<root>/data/…`. */
  readonly root: string
  /** `./data/x` (or `data/x`) as a path under the program's directory. */
  path(relative: string): string
  /** Another fixture of the same prelude (made once per program). */
  fixture<T>(name: string): Promise<T>
  /** Runs `close` after the program, newest first. */
  onClose(close: () => unknown): void
}

/** A prelude's fixtures: each name made by a function of the program's context. */
export type Fixtures = Readonly<Record<string, (ctx: DocContext) => unknown>>

/** The names a program sees for a prelude's fixtures, with the types the fixtures make. */
export type ScopeOf<F extends Fixtures> = { [K in keyof F]: Awaited<ReturnType<F[K]>> }

/** A context for the program whose directory is `root`. */
export function docContext(root: string, fixtures: Fixtures): DocContext & { close(): Promise<void> } {
  const made = new Map<string, Promise<unknown>>()
  const closes: (() => unknown)[] = []
  const ctx = {
    root,
    path: (relative: string) => join(root, relative),
    fixture<T>(name: string): Promise<T> {
      const make = fixtures[name]
      if (make === undefined) throw new Error(`no fixture named ${name}`)
      if (!made.has(name))
        made.set(
          name,
          Promise.resolve().then(() => make(ctx)),
        )
      return made.get(name) as Promise<T>
    },
    onClose(close: () => unknown) {
      closes.push(close)
    },
    async close() {
      for (const close of closes.reverse()) await close()
    },
  }
  return ctx
}
