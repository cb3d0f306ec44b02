// Turning doc blocks into programs: a README's blocks are one program in order (a `standalone` block is its own),
// each `@example` is one program. A program's imports are hoisted and merged (two blocks may import the same name),
// an `@example` also sees every public name of its package, and every program sees its package's prelude
// (preludes/<package>.ts) as names in an outer scope it may shadow. The same program is written out twice: for the
// type checker (every block, lines kept so errors map back to the doc) and for running (`check` blocks left out,
// `// ->` comments turned into assertions).
import ts from 'typescript'
import type { DocBlock } from './extract.js'

/** One program of the docs test. */
export interface DocProgram {
  /** Unique, file-name safe. */
  readonly id: string
  /** Where it comes from, for test titles and errors (`packages/log/README.md:21`). */
  readonly title: string
  /** The prelude it gets: a file name in preludes/, without `.ts`. */
  readonly prelude: string
  /** The package whose public names an `@example` sees without importing them. */
  readonly autoImport: { readonly module: string; readonly names: readonly ExportName[] } | undefined
  readonly blocks: readonly DocBlock[]
}

/** A public name of a package and whether it is a type only. */
export interface ExportName {
  readonly name: string
  readonly type: boolean
}

/** What a prelude gives a program: type names to import, and the names of its fixtures (values). */
export interface PreludeNames {
  readonly types: readonly string[]
  readonly fixtures: readonly string[]
}

/** The source line a program line came from. */
export interface Origin {
  readonly file: string
  readonly line: number
}

/** A program written out: its text, where each body line came from, and (for running) its assertions. */
export interface ProgramText {
  readonly text: string
  /** `origins[i]` is the origin of body line i (the text's line i + 2, 1-based). */
  readonly origins: readonly Origin[]
  /** Where each `// ->` assertion is, by index (running only). */
  readonly expects: readonly Origin[]
}

interface ImportBinding {
  readonly module: string
  /** `'default'`, `'*'` or the imported name. */
  readonly imported: string
  readonly type: boolean
}

/** A README's programs: its main program (the blocks that are not standalone), then each standalone block. */
export function readmePrograms(blocks: readonly DocBlock[], prelude: string, file: string): DocProgram[] {
  const main = blocks.filter((b) => !b.flags.has('standalone'))
  const programs: DocProgram[] = []
  const base = file.replace(/[^A-Za-z0-9]+/g, '-').replace(/-md$/, '')
  if (main.length > 0) {
    programs.push({ id: base, title: `${file} (its program)`, prelude, autoImport: undefined, blocks: main })
  }
  for (const block of blocks.filter((b) => b.flags.has('standalone'))) {
    programs.push({
      id: `${base}-L${block.line}`,
      title: `${file}:${block.line}`,
      prelude,
      autoImport: undefined,
      blocks: [block],
    })
  }
  return programs
}

/** The program of one `@example`. */
export function exampleProgram(block: DocBlock, prelude: string, autoImport: DocProgram['autoImport']): DocProgram {
  const id = `${block.file.replace(/[^A-Za-z0-9]+/g, '-').replace(/-ts$/, '')}-L${block.line}`
  return { id, title: `${block.file}:${block.line}`, prelude, autoImport, blocks: [block] }
}

/** True if some block of the program runs (is not `check`). */
export function runs(program: DocProgram): boolean {
  return program.blocks.some((b) => !b.flags.has('check'))
}

/**
 * The program as one module: line 1 imports the prelude's types and binds its fixtures from an outer scope, then the
 * merged imports; the body follows in a block of its own, line for line. `forRun`: `check` blocks are left out and
 * `// ->` comments become `__expect(actual, expected, index)` calls.
 */
export function programText(
  program: DocProgram,
  prelude: PreludeNames,
  preludePath: string,
  forRun: boolean,
): ProgramText {
  const imports = new Map<string, ImportBinding>()
  for (const { name, type } of program.autoImport?.names ?? []) {
    imports.set(name, { module: program.autoImport!.module, imported: name, type })
  }
  const body: string[] = []
  const origins: Origin[] = []
  for (const block of program.blocks) {
    const skip = forRun && block.flags.has('check')
    const lines = skip ? block.code.map(() => '') : hoistImports(block, imports)
    lines.forEach((text, i) => {
      body.push(text)
      origins.push({ file: block.file, line: block.line + i })
    })
  }
  for (const name of prelude.fixtures) {
    const clash = imports.get(name)
    if (clash !== undefined && !clash.type)
      throw new Error(`${program.title}: "${name}" is imported and a prelude name`)
  }
  // For running, the fixtures are the parameters of the function the program becomes (run.ts).
  const scope = forRun
    ? []
    : [
        ...(prelude.types.length > 0 ? [`import type { ${prelude.types.join(', ')} } from '${preludePath}'`] : []),
        `import type { fixtures as __fixtures } from '${preludePath}'`,
        `import type { ScopeOf as __ScopeOf } from '../fixtures.js'`,
        'declare const __scope: __ScopeOf<typeof __fixtures>',
        ...(prelude.fixtures.length > 0 ? [`const { ${prelude.fixtures.join(', ')} } = __scope`] : []),
      ]
  const header = [...scope, ...importStatements(imports, forRun)]
  const expects: Origin[] = []
  const bodyText = forRun ? rewriteExpects(body.join('\n'), origins, expects) : body.join('\n')
  const text = `${header.join('; ')}${header.length > 0 ? '; ' : ''}{\n${bodyText}\n}\nexport {}\n`
  return { text, origins, expects }
}

/** The block's lines with its import declarations blanked, their bindings added to `imports`. */
function hoistImports(block: DocBlock, imports: Map<string, ImportBinding>): string[] {
  const lines = [...block.code]
  const source = ts.createSourceFile('block.ts', lines.join('\n'), ts.ScriptTarget.ES2022, true)
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement)) continue
    for (const [local, binding] of bindingsOf(statement)) {
      const known = imports.get(local)
      if (known !== undefined && (known.module !== binding.module || known.imported !== binding.imported)) {
        throw new Error(`${block.file}:${block.line}: "${local}" is imported from two places`)
      }
      imports.set(local, { ...binding, type: binding.type && (known?.type ?? true) })
    }
    const first = source.getLineAndCharacterOfPosition(statement.getStart()).line
    const last = source.getLineAndCharacterOfPosition(statement.end).line
    for (let i = first; i <= last; i++) lines[i] = ''
  }
  return lines
}

function bindingsOf(statement: ts.ImportDeclaration): [string, ImportBinding][] {
  const module = (statement.moduleSpecifier as ts.StringLiteral).text
  const clause = statement.importClause
  if (clause === undefined) return []
  const out: [string, ImportBinding][] = []
  if (clause.name !== undefined) out.push([clause.name.text, { module, imported: 'default', type: clause.isTypeOnly }])
  const named = clause.namedBindings
  if (named !== undefined && ts.isNamespaceImport(named)) {
    out.push([named.name.text, { module, imported: '*', type: clause.isTypeOnly }])
  } else if (named !== undefined) {
    for (const element of named.elements) {
      const imported = (element.propertyName ?? element.name).text
      out.push([element.name.text, { module, imported, type: clause.isTypeOnly || element.isTypeOnly }])
    }
  }
  return out
}

/** One import statement per module and kind; type-only bindings are left out when writing for running. */
function importStatements(imports: ReadonlyMap<string, ImportBinding>, forRun: boolean): string[] {
  const named = new Map<string, string[]>()
  const out: string[] = []
  for (const [local, b] of imports) {
    if (forRun && b.type) continue
    if (b.imported === '*') out.push(`import ${b.type ? 'type ' : ''}* as ${local} from '${b.module}'`)
    else if (b.imported === 'default') out.push(`import ${b.type ? 'type ' : ''}${local} from '${b.module}'`)
    else {
      const spec = `${b.type ? 'type ' : ''}${b.imported === local ? local : `${b.imported} as ${local}`}`
      named.set(b.module, [...(named.get(b.module) ?? []), spec])
    }
  }
  for (const [module, specs] of named) out.push(`import { ${specs.join(', ')} } from '${module}'`)
  return out
}

/**
 * Turns `expression // -> value` into `__expect((expression), (value), index)`. For `console.log(a, b) // -> x, y`
 * the logged values are compared: `[a, b]` with `[x, y]` (one argument: `a` with `x`).
 */
function rewriteExpects(body: string, origins: readonly Origin[], expects: Origin[]): string {
  const source = ts.createSourceFile('body.ts', body, ts.ScriptTarget.ES2022, true)
  const edits: { start: number; end: number; text: string }[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isExpressionStatement(node)) {
      const comment = ts.getTrailingCommentRanges(body, node.end)?.find((c) => body.slice(c.pos, c.pos + 5) === '// ->')
      if (comment !== undefined) {
        const value = body.slice(comment.pos + 5, comment.end).trim()
        const line = source.getLineAndCharacterOfPosition(node.getStart()).line
        const index = expects.push(origins[line]!) - 1
        const expr = node.expression
        const logged = isConsoleLog(expr) ? expr.arguments.map((a) => a.getText(source)) : undefined
        const actual = logged === undefined ? expr.getText(source) : logged.length === 1 ? logged[0]! : `[${logged}]`
        const expected = logged !== undefined && logged.length > 1 ? `[${value}]` : value
        edits.push({ start: expr.getStart(), end: expr.end, text: `__expect((${actual}), (${expected}), ${index})` })
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  let out = body
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end)
  }
  return out
}

function isConsoleLog(node: ts.Expression): node is ts.CallExpression {
  return (
    ts.isCallExpression(node) &&
    ts.isPropertyAccessExpression(node.expression) &&
    node.expression.getText() === 'console.log'
  )
}
