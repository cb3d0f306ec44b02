// Type-checking every doc program at once: one TypeScript program over the repository's own compiler options
// (tsconfig.base.json, so examples meet the same strictness as the code), with each doc program as a virtual file
// under tests/docs/programs/ (never written), where `@homedb/*` resolve to the packages' sources. Errors are mapped
// back to the doc line they come from. The checker also says which prelude names each program really uses (a name
// it shadows does not count), so running it makes only those.
import { dirname, join } from 'node:path'
import ts from 'typescript'
import type { Origin, ProgramText } from './program.js'

/** What the checker found for one program. */
export interface Checked {
  /** Every error, as `file:line: message`. */
  readonly errors: readonly string[]
  /** The prelude fixtures the program's code refers to. */
  readonly used: ReadonlySet<string>
}

/** Type-checks `programs` (by id) as files of `dir`; returns the result of each. */
export function typecheck(repo: string, dir: string, programs: ReadonlyMap<string, ProgramText>): Map<string, Checked> {
  const options = compilerOptions(repo)
  const files = new Map([...programs].map(([id, p]) => [join(dir, `${id}.ts`), { id, program: p }]))
  const host = ts.createCompilerHost(options, true)
  const { fileExists, readFile, getSourceFile } = host
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name)
  host.readFile = (name) => files.get(name)?.program.text ?? readFile.call(host, name)
  host.getSourceFile = (name, version, onError, create) => {
    const file = files.get(name)
    if (file !== undefined) return ts.createSourceFile(name, file.program.text, version, true)
    return getSourceFile.call(host, name, version, onError, create)
  }
  const program = ts.createProgram({ rootNames: [...files.keys()], options, host })
  const checker = program.getTypeChecker()
  const results = new Map<string, Checked>()
  for (const [name, { id, program: text }] of files) {
    const source = program.getSourceFile(name)!
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
    results.set(id, {
      errors: diagnostics.map((d) => describe(d, source, text.origins)),
      used: usedFixtures(source, checker),
    })
  }
  return results
}

function compilerOptions(repo: string): ts.CompilerOptions {
  const path = join(repo, 'tsconfig.base.json')
  const config = ts.readConfigFile(path, ts.sys.readFile)
  if (config.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dirname(path))
  return { ...parsed.options, noEmit: true, declaration: false, sourceMap: false }
}

function describe(d: ts.Diagnostic, source: ts.SourceFile, origins: readonly Origin[]): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n')
  if (d.start === undefined) return message
  const line = source.getLineAndCharacterOfPosition(d.start).line
  const origin = origins[line - 1]
  return origin === undefined ? `(the program's header) ${message}` : `${origin.file}:${origin.line}: ${message}`
}

/** The names bound on the header line (`const { a, b } = __scope`) that the body refers to. */
function usedFixtures(source: ts.SourceFile, checker: ts.TypeChecker): Set<string> {
  const bound = new Map<ts.Symbol, string>()
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue
    for (const decl of statement.declarationList.declarations) {
      if (!ts.isObjectBindingPattern(decl.name)) continue
      for (const element of decl.name.elements) {
        const symbol = checker.getSymbolAtLocation(element.name)
        if (symbol !== undefined) bound.set(symbol, (element.name as ts.Identifier).text)
      }
    }
  }
  const used = new Set<string>()
  const visit = (node: ts.Node): void => {
    if (ts.isShorthandPropertyAssignment(node)) {
      const symbol = checker.getShorthandAssignmentValueSymbol(node)
      if (symbol !== undefined && bound.has(symbol)) used.add(bound.get(symbol)!)
    } else if (ts.isIdentifier(node) && !ts.isBindingElement(node.parent)) {
      const symbol = checker.getSymbolAtLocation(node)
      if (symbol !== undefined && bound.has(symbol)) used.add(bound.get(symbol)!)
    }
    ts.forEachChild(node, visit)
  }
  for (const statement of source.statements) if (ts.isBlock(statement)) visit(statement)
  return used
}
