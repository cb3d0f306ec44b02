// The browser harness drives real headless Chromium: it loads a page from a loopback server, clicks, reads the
// result and takes a screenshot that is not blank.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, type TestBrowser } from './browser.js'

const PAGE = `<!doctype html><html><body style="background:#fff">
<h1>harness</h1><button id="b" onclick="document.getElementById('out').textContent='clicked'">go</button>
<p id="out">waiting</p></body></html>`

let server: http.Server
let url: string
let browser: TestBrowser

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end(PAGE)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => server?.close(resolve))
})

describe('browser harness', () => {
  it('loads a loopback page, clicks a button and sees the page change', async () => {
    const page = await browser.browser.newPage({ viewport: { width: 390, height: 600 } })
    await page.goto(url)
    await page.click('#b')
    await expect.poll(() => page.textContent('#out')).toBe('clicked')
    const png = await page.screenshot()
    // A PNG of a rendered page: the signature, and more than one distinct byte value in its pixel data.
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG')
    expect(new Set(png.subarray(64)).size).toBeGreaterThan(16)
    await page.close()
  })
})
