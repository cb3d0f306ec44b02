// How a long-running `homedb` command (serve, directory) ends: on SIGTERM or SIGINT it says so, closes its server
// once (a second signal while closing is ignored), and sets a failing exit code if closing failed.

/**
 * Resolves once a SIGTERM or SIGINT arrived and `close()` settled. `stopping` is printed when the signal arrives
 * (what the server finishes before it stops).
 */
export function untilSignal(close: () => Promise<void>, stopping: string): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopped = false
    const stop = (signal: string) => {
      if (stopped) return
      stopped = true
      console.log(`${signal}: ${stopping}`)
      close().then(
        () => {
          console.log('stopped')
          resolve()
        },
        (error: unknown) => {
          console.error(`error while stopping: ${(error as Error).message}`)
          process.exitCode = 1
          resolve()
        },
      )
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
}
