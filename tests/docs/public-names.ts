// The names a doc program sees without importing them: every public name of its package (what its src/index.ts
// lists, types marked as such) and the types its prelude exports. Read from the source text, so the list can never
// differ from what the package exports.
import { readFileSync } from 'node:fs'
import ts from 'typescript'
import type { ExportName } from './program.js'

/** Every name `index.ts` exports, and whether it is a type only. */
export function packageExports(index: string): ExportName[] {
  const source = ts.createSourceFile(index, readFileSync(index, 'utf8'), ts.ScriptTarget.ES2022, true)
  const names: ExportName[] = []
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement)) continue
    const clause = statement.exportClause
    if (clause === undefined || !ts.isNamedExports(clause)) throw new Error(`${index}: export * is not allowed`)
    for (const element of clause.elements) {
      names.push({ name: element.name.text, type: statement.isTypeOnly || element.isTypeOnly })
    }
  }
  return names
}

/** The interfaces and type aliases a prelude exports. */
export function preludeTypes(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)
  const exported = (node: ts.Node) =>
    ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  return source.statements
    .filter((s) => (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && exported(s))
    .map((s) => (s as ts.InterfaceDeclaration | ts.TypeAliasDeclaration).name.text)
}
