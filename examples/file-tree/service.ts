// The operations of the file-tree service on one user's database, each one synchronous transaction: the tree's
// invariants (no cycles, no two live siblings with one name, documents are leaves) are plain code, checked before
// anything changes, and a refusal throws a typed error with nothing written. Operations compose: one called inside
// another's transaction joins it and returns its result directly.
import { FileTree, type FileTreeDb, ROOT } from './schema.js'

export { FileTree, ROOT }

/** Why an operation was refused. */
export type TreeErrorCode = 'TREE_NOT_FOUND' | 'TREE_NAME_TAKEN' | 'TREE_CYCLE' | 'TREE_NOT_FOLDER' | 'TREE_ROOT'

/** A refused operation: nothing was written. */
export class TreeError extends Error {
  override name = 'TreeError'
  constructor(
    readonly code: TreeErrorCode,
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
  ) {
    super(message)
  }
}

/** A new file or folder. */
export interface NewFile {
  readonly id: string
  readonly parent: string
  readonly name: string
  readonly kind: 'folder' | 'document'
  readonly size?: number
}

function live(db: FileTreeDb, id: string) {
  const file = db.files.get(id)
  if (file === undefined || file.deleted) throw new TreeError('TREE_NOT_FOUND', `no file ${id}`, { id })
  return file
}

function folder(db: FileTreeDb, id: string) {
  const file = live(db, id)
  if (file.kind !== 'folder') throw new TreeError('TREE_NOT_FOLDER', `${file.name} is not a folder`, { id })
  return file
}

/** Refuses a name a live sibling already has (the tree's second invariant). */
function assertFreeName(db: FileTreeDb, parent: string, name: string, except?: string): void {
  for (const sibling of db.children.get(parent) ?? []) {
    if (sibling === except) continue
    const file = db.files.get(sibling)
    if (file !== undefined && !file.deleted && file.name === name) {
      throw new TreeError('TREE_NAME_TAKEN', `${name} already exists in this folder`, { parent, name })
    }
  }
}

/** Creates the account and its root folder. */
export function createAccount(db: FileTreeDb, user: string, now: number): void {
  db.transactionSync(() => {
    db.account.insert({ user, plan: 'free', createdAt: now })
    db.files.insert(ROOT, { name: '/', kind: 'folder', parent: ROOT, size: 0, modified: now, deleted: false })
  })
}

/** Creates a file or folder in a live folder; returns its id. */
export function createFile(db: FileTreeDb, file: NewFile, now: number): string {
  return db.transactionSync(() => {
    folder(db, file.parent)
    assertFreeName(db, file.parent, file.name)
    const size = file.size ?? 0
    db.files.insert(file.id, {
      name: file.name,
      kind: file.kind,
      parent: file.parent,
      size,
      modified: now,
      deleted: false,
    })
    db.children.insert(file.parent, file.id)
    if (file.kind === 'document') db.history.push(file.id, { at: now, size, by: db.account.get()?.user ?? '?' })
    db.activity.push({ at: now, what: `created ${file.name}`, file: file.id })
    return file.id
  })
}

/** Renames a file; its folder must not hold a live file of that name. */
export function rename(db: FileTreeDb, id: string, name: string, now: number): void {
  db.transactionSync(() => {
    if (id === ROOT) throw new TreeError('TREE_ROOT', 'the root folder has no name to change')
    const file = live(db, id)
    assertFreeName(db, file.parent, name, id)
    db.files.update(id, (old) => ({ ...old, name, modified: now }))
    db.activity.push({ at: now, what: `renamed ${file.name} to ${name}`, file: id })
  })
}

/** Moves a file into another folder; a folder never moves into itself or below itself (the first invariant). */
export function move(db: FileTreeDb, id: string, to: string, now: number): void {
  db.transactionSync(() => {
    if (id === ROOT) throw new TreeError('TREE_ROOT', 'the root folder cannot move')
    const file = live(db, id)
    folder(db, to)
    for (let at = to; ; at = db.files.get(at)!.parent) {
      if (at === id) throw new TreeError('TREE_CYCLE', `${file.name} cannot move below itself`, { id, to })
      if (at === ROOT) break
    }
    assertFreeName(db, to, file.name, id)
    db.children.remove(file.parent, id)
    db.children.insert(to, id)
    db.files.update(id, (old) => ({ ...old, parent: to, modified: now }))
    db.activity.push({ at: now, what: `moved ${file.name}`, file: id })
  })
}

/** Records an edit of a document (its new size) in its history. */
export function edit(db: FileTreeDb, id: string, size: number, now: number): void {
  db.transactionSync(() => {
    const file = live(db, id)
    if (file.kind !== 'document') throw new TreeError('TREE_NOT_FOLDER', `${file.name} is a folder`, { id })
    db.files.update(id, (old) => ({ ...old, size, modified: now }))
    db.history.push(id, { at: now, size, by: db.account.get()?.user ?? '?' })
  })
}

/** Moves a file (and everything below it) to the trash. */
export function trash(db: FileTreeDb, id: string, now: number): void {
  db.transactionSync(() => {
    if (id === ROOT) throw new TreeError('TREE_ROOT', 'the root folder cannot be deleted')
    const stack = [id]
    while (stack.length > 0) {
      const at = stack.pop()!
      const file = live(db, at)
      db.files.insert(at, { ...file, deleted: true, modified: now })
      for (const child of db.children.get(at) ?? []) if (!db.files.get(child)?.deleted) stack.push(child)
    }
    db.activity.push({ at: now, what: `deleted ${db.files.get(id)!.name}`, file: id })
  })
}

/** Shares a file with another user. */
export function share(db: FileTreeDb, id: string, user: string, mode: 'read' | 'write', now: number): void {
  db.transactionSync(() => {
    live(db, id)
    db.shares.insert(id, user, { mode, at: now })
  })
}

/** The live files of a folder, sorted by name. */
export function listFolder(db: FileTreeDb, id: string): { id: string; name: string; kind: string; size: number }[] {
  folder(db, id)
  const out: { id: string; name: string; kind: string; size: number }[] = []
  for (const child of db.children.get(id) ?? []) {
    const file = db.files.get(child)
    if (file !== undefined && !file.deleted) out.push({ id: child, name: file.name, kind: file.kind, size: file.size })
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** The path of a live file, from the root. */
export function pathOf(db: FileTreeDb, id: string): string {
  const names: string[] = []
  for (let at = id; at !== ROOT; at = live(db, at).parent) names.unshift(live(db, at).name)
  return `/${names.join('/')}`
}
