// A real headless browser for the operator page's tests: Debian's Chromium driven by playwright-core. Fails loudly
// (never skips) when Chromium is missing or does not start: `.ci/run` installs Debian's `chromium` when absent.
import { spawnSync } from 'node:child_process'
import { type Browser, chromium } from 'playwright-core'

const CHROMIUM = process.env.HOMEDB_CHROMIUM_BIN ?? '/usr/bin/chromium'

/**
 * Flags for a sandboxed CI machine: root needs `--no-sandbox`, and the closed network refuses Chromium's background
 * connections (component updates, sync, QUIC), which would otherwise be retried at every start.
 */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** A launched browser and a function that closes it. */
export interface TestBrowser {
  readonly browser: Browser
  close(): Promise<void>
}

/** Throws a clear error when the Chromium binary is not available. */
export function assertChromiumInstalled(): void {
  const probe = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM} (${probe.error?.message ?? probe.stderr}). ` +
        "Install Debian's chromium (apt-get install -y chromium; .ci/run does it) or set HOMEDB_CHROMIUM_BIN.",
    )
  }
}

/**
 * Launches headless Chromium. Playwright gives every launch a fresh, empty profile of its own and deletes it on close.
 *
 * @example
 * ```ts
 * const { browser, close } = await launchBrowser()
 * const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
 * await page.goto(server.url + '/ui')
 * await close()
 * ```
 */
export async function launchBrowser(): Promise<TestBrowser> {
  assertChromiumInstalled()
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  })
  return {
    browser,
    async close() {
      await browser.close()
    },
  }
}
