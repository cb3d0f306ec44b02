// Decodes the PNG screenshots the browser tests take (8-bit RGB or RGBA, not interlaced: what Chromium writes), so a
// test can check that a screenshot shows something: how many colours it holds, and how much of it is not its
// background.
import { inflateSync } from 'node:zlib'

/** A decoded image: RGBA pixels, row by row. */
export interface Png {
  readonly width: number
  readonly height: number
  readonly rgba: Uint8Array
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
}

/** Undoes the per-row filters of the inflated image data (PNG spec, "Filtering"). */
function unfilter(data: Buffer, width: number, height: number, bpp: number): Uint8Array {
  const stride = width * bpp
  const out = new Uint8Array(stride * height)
  for (let y = 0; y < height; y++) {
    const filter = data[y * (stride + 1)]!
    const row = data.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    const at = y * stride
    for (let x = 0; x < stride; x++) {
      const left = x >= bpp ? out[at + x - bpp]! : 0
      const up = y > 0 ? out[at - stride + x]! : 0
      const upLeft = x >= bpp && y > 0 ? out[at - stride + x - bpp]! : 0
      const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter]
      if (predictor === undefined) throw new Error(`PNG row ${y} has an unknown filter ${filter}`)
      out[at + x] = (row[x]! + predictor) & 0xff
    }
  }
  return out
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG; throws on anything else. */
export function decodePng(file: Uint8Array): Png {
  const bytes = Buffer.from(file)
  if (bytes.subarray(1, 4).toString('ascii') !== 'PNG') throw new Error('not a PNG')
  let width = 0
  let height = 0
  let bpp = 0
  const idat: Buffer[] = []
  for (let at = 8; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at)
    const type = bytes.subarray(at + 4, at + 8).toString('ascii')
    const body = bytes.subarray(at + 8, at + 8 + length)
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      const [depth, colour, , , interlace] = [body[8], body[9], body[10], body[11], body[12]]
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) {
        throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`)
      }
      bpp = colour === 6 ? 4 : 3
    } else if (type === 'IDAT') idat.push(body)
    at += 12 + length
  }
  const raw = unfilter(inflateSync(Buffer.concat(idat)), width, height, bpp)
  if (bpp === 4) return { width, height, rgba: raw }
  const rgba = new Uint8Array(width * height * 4)
  for (let i = 0, j = 0; i < raw.length; i += 3, j += 4) {
    rgba[j] = raw[i]!
    rgba[j + 1] = raw[i + 1]!
    rgba[j + 2] = raw[i + 2]!
    rgba[j + 3] = 255
  }
  return { width, height, rgba }
}

/** How varied an image is: its distinct colours, and the share of pixels not of its most common colour. */
export function pixelVariety(png: Png): { readonly colours: number; readonly foreground: number } {
  const counts = new Map<number, number>()
  for (let i = 0; i < png.rgba.length; i += 4) {
    const key = (png.rgba[i]! << 16) | (png.rgba[i + 1]! << 8) | png.rgba[i + 2]!
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const pixels = png.width * png.height
  const background = Math.max(...counts.values())
  return { colours: counts.size, foreground: (pixels - background) / pixels }
}
