// Progress for long CLI work: a cli-progress bar on a TTY, plain lines otherwise (logs, CI, pipes), so the same
// command is readable in both places.
import cliProgress from 'cli-progress'

/** A progress reporter: `update(done, total, note)`, then `stop()`. */
export interface Progress {
  update(done: number, total: number, note?: string): void
  stop(): void
}

/** A bar on a TTY; otherwise a plain line at most every `everyMs` and at the end. */
export function progress(label: string, out: NodeJS.WriteStream = process.stderr, everyMs = 1000): Progress {
  if (out.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% {value}/{total} {note}`, stream: out, hideCursor: true },
      cliProgress.Presets.shades_classic,
    )
    let started = false
    return {
      update(done, total, note = '') {
        if (!started) {
          bar.start(total, done, { note })
          started = true
        } else {
          bar.setTotal(total)
          bar.update(done, { note })
        }
      },
      stop: () => {
        if (started) bar.stop()
      },
    }
  }
  let last = 0
  let latest = ''
  return {
    update(done, total, note = '') {
      latest = `${label}: ${done}/${total}${note === '' ? '' : ` ${note}`}`
      const now = Date.now()
      if (now - last >= everyMs) {
        last = now
        out.write(`${latest}\n`)
      }
    },
    stop() {
      if (latest !== '') out.write(`${latest} (done)\n`)
    },
  }
}
