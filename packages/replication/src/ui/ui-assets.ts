// The operator page's static files: plain HTML, CSS and JavaScript modules in the package's `ui/` folder, shipped
// in the tarball as they are (no build step). They are found relative to this module, which sits at the same depth
// in `src/ui/` (the repository) and `dist/ui/` (an installed package), read once, and served with an ETag.
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { WireRequest, WireResponse } from '../wire.js'
import { escapeHtml, UI_HEADERS, uiError, uiHtml } from './ui-http.js'

/** The folder of the page's files: `<package>/ui/`. */
export const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url))

const TYPES: Readonly<Record<string, string>> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
}

/** Names an asset may have: lower-case words, one extension the page uses. */
const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.(js|css|svg)$/

interface Asset {
  readonly body: Buffer
  readonly type: string
  readonly etag: string
}

interface Loaded {
  readonly assets: ReadonlyMap<string, Asset>
  readonly pages: ReadonlyMap<string, string>
}

let loaded: Promise<Loaded> | undefined

async function load(): Promise<Loaded> {
  const assets = new Map<string, Asset>()
  const pages = new Map<string, string>()
  for (const name of await readdir(UI_DIR)) {
    const body = await readFile(`${UI_DIR}${name}`)
    if (name.endsWith('.html')) pages.set(name, body.toString('utf8'))
    const match = ASSET_NAME.exec(name)
    if (match === null) continue
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    assets.set(name, { body, type: TYPES[match[1]!]!, etag })
  }
  return { assets, pages }
}

/** The page's files, read once per process. */
function files(): Promise<Loaded> {
  loaded ??= load().catch((error: unknown) => {
    loaded = undefined
    throw error
  })
  return loaded
}

/** GET /ui/assets/:name — a file of the page (revalidated with its ETag, never cached blindly). */
export async function serveAsset(request: WireRequest): Promise<WireResponse> {
  const name = request.params.name ?? ''
  const asset = ASSET_NAME.test(name) ? (await files()).assets.get(name) : undefined
  if (asset === undefined) return uiError(404, 'not-found', 'no such file of the page')
  const headers = { ...UI_HEADERS, 'content-type': asset.type, etag: asset.etag, 'cache-control': 'no-cache' }
  if (request.headers['if-none-match'] === asset.etag) return { status: 304, headers }
  return { status: 200, headers, body: asset.body }
}

/**
 * An HTML page of the folder with its `{{name}}` slots filled: every value is escaped, so a value is text in the
 * page, never markup.
 */
export async function renderPage(
  name: string,
  slots: Readonly<Record<string, string>>,
  status = 200,
  headers: Record<string, string> = {},
): Promise<WireResponse> {
  const template = (await files()).pages.get(name)
  if (template === undefined) throw new Error(`the operator page's ${name} is missing from ${UI_DIR}`)
  const html = template.replace(/\{\{([a-z]+)\}\}/g, (_, slot: string) => escapeHtml(slots[slot] ?? ''))
  return uiHtml(status, html, headers)
}
