// openUserDbs's record of users that may hold commits their home has not acknowledged: an empty file
// `<dir>/.pending/<user>` written when the user's db opens and removed when it closes with everything shipped. A
// user closed with commits still unshipped (home down, or the pool needed the room) keeps its marker, so the pool
// ships it in the background and an app restarted later finds it again.
import { mkdir, readdir, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isUserName } from './user-names.js'

export class PendingMarkers {
  private readonly dir: string

  constructor(root: string) {
    this.dir = join(root, '.pending')
  }

  /** Users marked by an earlier run of the app (or this one). */
  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((name) => isUserName(name))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
  }

  async mark(user: string): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    await writeFile(join(this.dir, user), '')
  }

  async clear(user: string): Promise<void> {
    await unlink(join(this.dir, user)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error
    })
  }
}
