// `homedb status DIRECTORY_URL`: the deployment seen from its directory: every user with its home, homeEpoch and
// moves in flight, joined with what each home reports (head position, state, replicas and their lag).
import type { DirectoryEntry } from '../directory.js'
import type { UserStatus } from '../user-status.js'

/** The directory's status answer. */
export interface DirectoryStatusAnswer {
  readonly kind: 'directory'
  readonly users: number
  readonly moving: readonly DirectoryEntry[]
  readonly entries: readonly DirectoryEntry[]
}

/** One user of the deployment, as `homedb status` prints it. */
export interface DeploymentUser extends DirectoryEntry {
  /** What the home said about the user (undefined if the home did not answer). */
  readonly atHome?: UserStatus
}

async function homeStatus(home: string, adminToken: string): Promise<Map<string, UserStatus> | undefined> {
  try {
    const response = await fetch(`${home}/v1/admin/status`, {
      headers: { authorization: `Bearer ${adminToken}` },
      signal: AbortSignal.timeout(10_000),
    })
    if (!response.ok) return undefined
    const body = (await response.json()) as { users: UserStatus[] }
    return new Map(body.users.map((u) => [u.name, u]))
  } catch {
    return undefined
  }
}

/** Joins the directory's entries with each home's view of its users. */
export async function deployment(answer: DirectoryStatusAnswer, adminToken: string) {
  const homes = [...new Set(answer.entries.map((e) => e.home))]
  const views = new Map(await Promise.all(homes.map(async (h) => [h, await homeStatus(h, adminToken)] as const)))
  const users: DeploymentUser[] = answer.entries.map((e) => {
    const atHome = views.get(e.home)?.get(e.user)
    return atHome === undefined ? e : { ...e, atHome }
  })
  const unreachable = homes.filter((h) => views.get(h) === undefined)
  return { kind: 'directory' as const, users, homes, unreachable, moving: answer.moving }
}

/** Prints the deployment (or its JSON). */
export async function printDirectoryStatus(
  url: string,
  answer: DirectoryStatusAnswer,
  adminToken: string,
  json: boolean,
): Promise<void> {
  const view = await deployment(answer, adminToken)
  if (json) return void console.log(JSON.stringify(view, null, 2))
  console.log(`${url}: directory of ${view.users.length} users on ${view.homes.length} homes`)
  for (const h of view.unreachable) console.log(`  (home ${h} did not answer)`)
  for (const u of view.users) {
    const head = u.atHome?.head === undefined || u.atHome.head === null ? '-' : String(u.atHome.head.seq)
    const move = u.move === undefined ? '' : `  moving to ${u.move.to} (move ${u.move.id})`
    const state = u.atHome?.state ?? '?'
    console.log(`  ${u.user}  ${u.home}  epoch ${u.homeEpoch}  ${state}  head ${head}${move}`)
    for (const r of u.atHome?.slots ?? []) console.log(`    replica ${r.name}  at ${r.seq}  lag ${r.lag ?? '?'}`)
  }
  if (view.moving.length === 0) console.log('  no moves in flight')
}
