// The operator page in a real headless browser (Debian's Chromium through playwright-core; the test fails, never
// skips, when it cannot start): a wrong token is refused; after logging in, a user appears and its head advances
// live while a writer commits; the user's tables show a value the test wrote, as text (a value holding <script> or
// an onerror attribute runs nothing); a new token is shown once and the old one is refused; a move started from
// the page (with the keyboard) completes; the directory's page lists the user at its new home; screenshots at
// 1280 px and 390 px are saved (the path is printed) and checked to show something.
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DirectoryServer, type HomeServer, ship, startDirectory, startHomeServer } from '@homedb/replication'
import { lookupTable, openDb, schema } from '@homedb/tables'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, type TestBrowser } from '../support/browser.js'
import { decodePng, pixelVariety } from '../support/png.js'
import { tempDirs } from './support/dirs.js'

const next = tempDirs('ui-browser')
const ADMIN = 'ui-browser-admin-token'
const SHOTS = process.env.HOMEDB_UI_SCREENSHOTS ?? join(tmpdir(), 'homedb-ui-screenshots')
const WIDTHS = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
] as const
const Files = schema({ files: lookupTable<string, { size: number; note: string }>() })
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'

let directory: DirectoryServer
let a: HomeServer
let b: HomeServer
let browser: TestBrowser
let token = ''
let writer: Awaited<ReturnType<typeof startWriter>>

async function startWriter() {
  const db = await openDb(Files, { dir: next() })
  const shipper = ship(db, {
    directory: directory.url,
    user: 'alice',
    token: () => token,
    retry: { baseMs: 10, maxMs: 200 },
  })
  let i = 0
  return {
    /** `n` commits, acknowledged by the home; resolves with the last seq. */
    async commit(n = 1) {
      for (let k = 0; k < n; k++, i++) db.files.insert(`file-${i}.txt`, { size: i, note: `written ${i}` })
      await shipper.flushed()
      return db.seq
    },
    async insert(key: string, value: { size: number; note: string }) {
      db.files.insert(key, value)
      await shipper.flushed()
    },
    async close() {
      await shipper.close()
      await db.close()
    },
  }
}

/** Logs in at `url` with `secret` through the form, as a person would. */
async function logIn(page: Page, url: string, secret: string): Promise<void> {
  await page.goto(`${url}/ui`)
  await page.getByLabel('Admin token').fill(secret)
  await page.getByRole('button', { name: 'Log in' }).click()
}

/** Saves a screenshot of the whole page, checks it shows something, and returns its path. */
async function screenshot(page: Page, name: string): Promise<string> {
  await page.evaluate('window.scrollTo(0, 0)')
  const png = await page.screenshot({ fullPage: true })
  const path = join(SHOTS, `${name}.png`)
  writeFileSync(path, png)
  const image = decodePng(png)
  const variety = pixelVariety(image)
  expect(image.width).toBe(page.viewportSize()?.width)
  // A blank page is one colour; a rendered one has text, badges and lines in many.
  expect(variety.colours, `${path} looks blank`).toBeGreaterThan(64)
  expect(variety.foreground, `${path} looks blank`).toBeGreaterThan(0.02)
  console.log(`screenshot: ${path} (${image.width}×${image.height}, ${variety.colours} colours)`)
  return path
}

function pwned(page: Page): Promise<unknown> {
  return page.evaluate('window.__pwned')
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  browser = await launchBrowser()
  directory = await startDirectory({ dataDir: next(), adminToken: ADMIN })
  a = await startHomeServer({ dataDir: next(), adminToken: ADMIN, directory: directory.url })
  b = await startHomeServer({ dataDir: next(), adminToken: ADMIN, directory: directory.url })
})

afterAll(async () => {
  await writer?.close()
  await browser?.close()
  await Promise.all([a?.close(), b?.close()])
  await directory?.close()
})

describe('the operator page in a browser', () => {
  let page: Page

  it('refuses a wrong token and sets no cookie', async () => {
    page = await browser.browser.newPage({ viewport: WIDTHS[0] })
    await logIn(page, a.url, 'not-the-admin-token')
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong token')
    expect(await page.context().cookies()).toEqual([])
    await screenshot(page, 'login-refused-1280')
  })

  it('logs in, sees a user appear and its head advance live as a writer commits', async () => {
    await logIn(page, a.url, ADMIN)
    await expect.poll(() => page.getByRole('status').first().textContent()).toBe('Live')
    const cookies = await page.context().cookies()
    expect(cookies).toHaveLength(1)
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui', secure: false })
    expect(await page.locator('tr[data-name="alice"]').count()).toBe(0)
    token = await a.addUser('alice')
    const row = page.locator('tr[data-name="alice"]')
    await row.waitFor()
    writer = await startWriter()
    for (let round = 0; round < 3; round++) {
      const seq = await writer.commit(5)
      // The head cell follows the writer without a reload.
      await expect
        .poll(() => row.locator('td[data-label="Head"]').textContent(), { timeout: 10_000 })
        .toBe(`seq ${seq}`)
    }
    await expect.poll(() => row.locator('td[data-label="Writer"]').textContent()).toContain('shipping')
  })

  it('opens the user’s tables and finds a value the test wrote, shown as text that runs nothing', async () => {
    await writer.commit(40)
    await writer.insert('hostile.html', { size: 0, note: HOSTILE })
    await page.getByRole('link', { name: 'alice' }).click()
    await expect.poll(() => page.getByRole('heading', { level: 2, name: 'alice' }).isVisible()).toBe(true)
    await page.getByRole('button', { name: /^files/ }).click()
    const entries = page.locator('.entries-table')
    await entries.waitFor()
    // 56 entries (file-0 … file-54 and hostile.html), 25 a page, in the order they were inserted.
    const pager = page.locator('.pager span')
    await expect.poll(() => pager.textContent()).toBe('1–25 of 56')
    await page.getByRole('button', { name: 'Next' }).click()
    await expect.poll(() => pager.textContent(), { timeout: 10_000 }).toBe('26–50 of 56')
    expect(await entries.textContent()).toContain('written 49')
    await page.getByRole('button', { name: 'Next' }).click()
    await expect.poll(() => pager.textContent(), { timeout: 10_000 }).toBe('51–56 of 56')
    expect(await entries.textContent()).toContain('written 54')
    const value = page.locator('.entries-table code', { hasText: 'window.__pwned = 1' })
    await value.first().waitFor()
    expect(await value.first().textContent()).toContain('<script>')
    expect(await page.locator('.entries-table script, .entries-table img').count()).toBe(0)
    expect(await pwned(page)).toBeUndefined()
    // The last commits list the operations, values as text too.
    await expect.poll(() => page.locator('.commits').textContent()).toContain('files set')
    expect(await page.locator('.commits script, .commits img').count()).toBe(0)
    expect(await pwned(page)).toBeUndefined()
  })

  it('makes a new token after a confirmation, shows it once, and the old one is refused', async () => {
    const old = token
    await page.getByRole('button', { name: 'New token…' }).click()
    const confirm = page.getByRole('dialog', { name: 'New token for alice' })
    await confirm.getByRole('button', { name: 'Make a new token' }).click()
    const shown = page.getByRole('dialog', { name: 'New token for alice' })
    const fresh = await shown.getByLabel('New token').inputValue()
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/)
    await shown.getByRole('button', { name: 'Done' }).click()
    expect(await page.getByRole('dialog').count()).toBe(0)
    const status = (t: string) => fetch(`${a.url}/v1/users/alice/log`, { headers: { authorization: `Bearer ${t}` } })
    expect((await status(old)).status).toBe(401)
    expect((await status(fresh)).status).toBe(200)
    token = fresh
    await writer.commit()
  })

  it('starts a move with the keyboard after a confirmation, and watches it complete', async () => {
    await page.getByRole('button', { name: 'Move to another home…' }).focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: 'Move alice' })
    await dialog.waitFor()
    await expect.poll(() => page.evaluate('document.activeElement?.getAttribute("type")')).toBe('url')
    await page.keyboard.type(b.url)
    await page.keyboard.press('Enter')
    const moveStatus = page.locator('.move-status')
    await expect.poll(() => moveStatus.textContent(), { timeout: 60_000 }).toContain(`Moved to ${b.url}`)
    expect(await moveStatus.textContent()).toContain('homeEpoch 2')
    expect(await directory.local.lookup('alice')).toMatchObject({ home: b.url, homeEpoch: 2 })
    await expect.poll(() => page.locator('.user-head .badge').textContent()).toBe('moved')
    // The writer carries on at the new home.
    const seq = await writer.commit(3)
    expect(b.service.users().find((u) => u.name === 'alice')?.head?.seq).toBe(seq)
    await page.goto(`${a.url}/ui`)
    await expect.poll(() => page.locator('tr[data-name="alice"] td[data-label="State"]').textContent()).toBe('moved')
  })

  it('shows the directory’s users with their home, linking to each home’s page', async () => {
    const dir = await browser.browser.newPage({ viewport: WIDTHS[0] })
    await logIn(dir, directory.url, ADMIN)
    const row = dir.locator('tr[data-name="alice"]')
    await row.waitFor()
    await expect.poll(() => row.locator('td[data-label="Home"] a').getAttribute('href')).toBe(`${b.url}/ui`)
    expect(await row.locator('td[data-label="homeEpoch"]').textContent()).toBe('2')
    await dir.close()
  })

  it('looks clean at 1280 px and 390 px: screenshots of each view are saved and show something', async () => {
    await writer.commit(20)
    const paths: string[] = []
    for (const viewport of WIDTHS) {
      const view = await browser.browser.newPage({ viewport })
      await logIn(view, b.url, ADMIN)
      await view.locator('tr[data-name="alice"]').waitFor()
      await expect.poll(() => view.locator('.chart-now').first().textContent(), { timeout: 10_000 }).not.toBe('—')
      paths.push(await screenshot(view, `home-${viewport.width}`))
      await view.getByRole('link', { name: 'alice' }).click()
      await view.getByRole('button', { name: /^files/ }).click()
      await view.locator('.entries-table').waitFor()
      await view.locator('.commits li').first().waitFor()
      paths.push(await screenshot(view, `user-${viewport.width}`))
      await view.close()
      const dir = await browser.browser.newPage({ viewport })
      await logIn(dir, directory.url, ADMIN)
      await dir.locator('tr[data-name="alice"]').waitFor()
      paths.push(await screenshot(dir, `directory-${viewport.width}`))
      await dir.close()
    }
    console.log(`operator page screenshots in ${SHOTS}:\n  ${paths.join('\n  ')}`)
  })
})
