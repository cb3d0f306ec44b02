// Running a doc program: its text (written for running, see program.ts) is transpiled to a CommonJS function body
// and called with the prelude's fixtures it uses, a `require` that hands out the modules this test imported (the
// packages' sources), a console that keeps what is logged, and the assertion `// ->` comments became. Paths
// `./data/…` in string literals are mapped into the program's temporary directory. Every db, log, server, shipper
// and client the program opened and left open is closed after it.

import ts from 'typescript'
import { expect } from 'vitest'
import type { DocContext } from './fixtures.js'
import type { Origin, ProgramText } from './program.js'

/** The modules a program may import, by specifier. */
export type Modules = Readonly<Record<string, object>>

/** Anything a program opened that `close()` puts away (a db, a log, a server, a shipper); `closed` where it says. */
interface Closable {
  readonly closed?: boolean
  close(): Promise<unknown>
}

const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<void>

/**
 * The names of the functions that open something to close after the program, by module. Closing twice is harmless
 * for those that do not say whether they are closed (servers, shippers, user dbs).
 */
const OPENERS: Readonly<Record<string, readonly string[]>> = {
  '@homedb/log': ['openLog'],
  '@homedb/tables': ['openDb', 'followDb'],
  '@homedb/replication': ['startHomeServer', 'startDirectory', 'ship', 'openReplica', 'openUserDbs'],
}

/** Runs `program` with `scope` (the fixtures it uses); throws on any error, failed `// ->` or one never reached. */
export async function runProgram(
  title: string,
  program: ProgramText,
  modules: Modules,
  ctx: DocContext,
  scope: Readonly<Record<string, unknown>>,
): Promise<string[]> {
  const js = transpile(title, mapPaths(program.text, ctx))
  const opened: Closable[] = []
  const logged: string[] = []
  const reached = new Set<number>()
  const names = Object.keys(scope)
  const fn = new AsyncFunction('require', 'exports', 'console', '__expect', ...names, js)
  const require = (specifier: string) => tracked(specifier, modules, opened)
  const log = (...args: unknown[]) => logged.push(args.map(String).join(' '))
  const console = { log, info: log, warn: log, error: log }
  const check = (actual: unknown, expected: unknown, index: number) => {
    reached.add(index)
    expect(actual, where(program.expects[index]!)).toEqual(expected)
  }
  try {
    await fn(require, {}, console, check, ...names.map((n) => scope[n]))
  } finally {
    for (const thing of opened.reverse()) if (thing.closed !== true) await thing.close().catch(() => undefined)
  }
  program.expects.forEach((origin, i) => {
    if (!reached.has(i)) throw new Error(`${where(origin)}: this // -> line never ran`)
  })
  return logged
}

function where(origin: Origin): string {
  return `${origin.file}:${origin.line}`
}

/** `'./data/x'` (quoted with ', " or `) becomes the same path under the program's directory. */
function mapPaths(text: string, ctx: DocContext): string {
  return text.replace(/(['"`])\.\/data\//g, (_, quote: string) => `${quote}${ctx.path('data')}/`)
}

function transpile(title: string, text: string): string {
  const out = ts.transpileModule(text, {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      verbatimModuleSyntax: false,
    },
    reportDiagnostics: true,
    fileName: 'doc.ts',
  })
  const errors = out.diagnostics ?? []
  if (errors.length > 0) {
    throw new Error(`${title}: ${errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`)
  }
  return out.outputText
}

/** The module for `specifier`, its opening functions wrapped so that what they open is closed after the program. */
function tracked(specifier: string, modules: Modules, opened: Closable[]): object {
  const module = modules[specifier] as Record<string, unknown> | undefined
  if (module === undefined) throw new Error(`a doc example imports ${specifier}, which the docs test does not provide`)
  const openers = OPENERS[specifier]
  if (openers === undefined) return module
  const wrapped: Record<string, unknown> = { ...module }
  for (const name of openers) {
    const open = module[name] as (...args: unknown[]) => Closable | Promise<Closable>
    const keep = (thing: Closable) => {
      opened.push(thing)
      return thing
    }
    // Synchronous openers (ship, openUserDbs) stay synchronous.
    wrapped[name] = (...args: unknown[]) => {
      const thing = open(...args)
      return thing instanceof Promise ? thing.then(keep) : keep(thing)
    }
  }
  return wrapped
}
