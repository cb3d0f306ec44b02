// The schema of one user's database in a Lockbook-style file-tree service: every homedb table kind, each value
// validated at run time by a zod schema (any Standard Schema works), so a request body that lies about its types
// is refused before anything changes.
import { type InferDb, list, lookupList, lookupMap, lookupSet, lookupTable, schema, single } from '@homedb/tables'
import { z } from 'zod'

/** The account that owns this database (one per user database). */
export const Account = z.object({
  user: z.string().min(1),
  plan: z.enum(['free', 'pro']),
  createdAt: z.number().int(),
})

/** A file or folder. `deleted` files stay (a trash), but no longer take their name in their folder. */
export const FileMeta = z.object({
  name: z.string().min(1).max(255),
  kind: z.enum(['folder', 'document']),
  /** The folder holding it; the root folder is its own parent. */
  parent: z.string(),
  size: z.number().int().nonnegative(),
  modified: z.number().int(),
  deleted: z.boolean(),
})

/** One edit of a document, in its history. */
export const Edit = z.object({ at: z.number().int(), size: z.number().int().nonnegative(), by: z.string() })

/** What a share lets the other user do. */
export const Share = z.object({ mode: z.enum(['read', 'write']), at: z.number().int() })

/** An entry of the account's activity feed. */
export const Activity = z.object({ at: z.number().int(), what: z.string(), file: z.string() })

/** Every table of one user's database. */
export const FileTree = schema({
  account: single({ schema: Account }),
  files: lookupTable({ key: 'string', schema: FileMeta }),
  children: lookupSet({ key: 'string', member: 'string' }),
  history: lookupList({ key: 'string', schema: Edit }),
  shares: lookupMap({ key: 'string', key2: 'string', schema: Share }),
  activity: list({ schema: Activity }),
})

/** The db type of {@link FileTree}, for functions that take one. */
export type FileTreeDb = InferDb<typeof FileTree>

/** The id of every user's root folder. */
export const ROOT = 'root'
