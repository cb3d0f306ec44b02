// Finding the examples the docs test runs: every ```ts block of a README (with the flags its fence carries) and
// every ```ts block of an `@example` in a package's sources, each with the file and line it starts at, so a failure
// points at the doc to fix. The conventions are described in CONTRIBUTING.md, "Docs that run".
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** What a fence may say after `ts`: its own program instead of the README's, and/or type-checked but not run. */
export type BlockFlag = 'standalone' | 'check'

/** One example: its code lines and where the first of them is. */
export interface DocBlock {
  /** Repository-relative path of the file it was found in. */
  readonly file: string
  /** 1-based line (in `file`) of the block's first code line. */
  readonly line: number
  readonly code: readonly string[]
  readonly flags: ReadonlySet<BlockFlag>
}

const FLAGS = new Set<string>(['standalone', 'check'])

/** The ```ts blocks of a markdown file, in order. A fence may be indented (inside a list item). */
export function markdownBlocks(root: string, path: string): DocBlock[] {
  const file = relative(root, path)
  const lines = readFileSync(path, 'utf8').split('\n')
  const blocks: DocBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```ts(?:\s+(.*))?$/.exec(lines[i]!)
    if (open === null) continue
    const indent = open[1]!.length
    const flags = flagsOf(open[2] ?? '', file, i + 1)
    const code: string[] = []
    let j = i + 1
    for (; j < lines.length && lines[j]!.trim() !== '```'; j++) code.push(lines[j]!.slice(indent))
    if (j === lines.length) throw new Error(`${file}:${i + 1}: a \`\`\`ts block is never closed`)
    blocks.push({ file, line: i + 2, code, flags })
    i = j
  }
  return blocks
}

/** The ```ts blocks of the `@example` tags in the TSDoc comments of a TypeScript file, in order. */
export function exampleBlocks(root: string, path: string): DocBlock[] {
  const file = relative(root, path)
  const lines = readFileSync(path, 'utf8').split('\n')
  const blocks: DocBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\*\s*@example\s*$/.test(lines[i]!)) continue
    const open = /^\s*\*\s*```ts(?:\s+(.*))?$/.exec(lines[i + 1] ?? '')
    if (open === null) throw new Error(`${file}:${i + 1}: an @example must be a \`\`\`ts block`)
    const flags = flagsOf(open[1] ?? '', file, i + 2)
    const code: string[] = []
    let j = i + 2
    for (; j < lines.length && !/^\s*\*\s*```\s*$/.test(lines[j]!); j++) {
      if (/^\s*\*\//.test(lines[j]!)) throw new Error(`${file}:${i + 1}: an @example block is never closed`)
      code.push(lines[j]!.replace(/^\s*\* ?/, ''))
    }
    blocks.push({ file, line: i + 3, code, flags })
    i = j
  }
  return blocks
}

/** Every `.ts` file under `dir`, recursively, sorted. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sourceFiles(path))
    else if (entry.name.endsWith('.ts')) out.push(path)
  }
  return out.sort()
}

function flagsOf(text: string, file: string, line: number): Set<BlockFlag> {
  const flags = new Set<BlockFlag>()
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (!FLAGS.has(word)) throw new Error(`${file}:${line}: unknown flag "${word}" on a \`\`\`ts fence`)
    flags.add(word as BlockFlag)
  }
  return flags
}
