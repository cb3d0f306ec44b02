// A small deployment for the homing workloads, every server in its own process: the embedded directory
// (`homedb directory`) and home servers joined to it (`homedb serve --directory`).
import { join } from 'node:path'
import { ADMIN, type BenchHome, type BenchServer, startBenchHome, startBenchServer } from './home.js'

/** A directory and its homes. */
export interface BenchDeployment {
  readonly directory: BenchServer
  readonly homes: readonly BenchHome[]
  stop(): Promise<void>
}

/** Starts a directory and `homes` homes under `root`. */
export async function startDeployment(root: string, homes: number): Promise<BenchDeployment> {
  const directory = await startBenchServer([
    'directory',
    '--data',
    join(root, 'directory'),
    '--port',
    '0',
    '--admin-token',
    ADMIN,
  ])
  const started: BenchHome[] = []
  try {
    for (let i = 0; i < homes; i++) {
      started.push(await startBenchHome(join(root, `home-${i}`), ['--directory', directory.url]))
    }
  } catch (error) {
    await Promise.all(started.map((h) => h.stop()))
    await directory.stop()
    throw error
  }
  return {
    directory,
    homes: started,
    async stop() {
      await Promise.all(started.map((h) => h.stop()))
      await directory.stop()
    },
  }
}
