// Commits as text, for tests that append and read back short strings.

/** UTF-8 bytes of `text`. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** `payload` decoded as UTF-8. */
export const text = (payload: Uint8Array): string => new TextDecoder().decode(payload)

/** Reads every commit of a log after `from` into [seq, text] pairs. */
export async function readAll(
  log: { read(o?: { from?: number }): AsyncIterable<{ seq: number; payload: Uint8Array }> },
  from = 0,
): Promise<[number, string][]> {
  const out: [number, string][] = []
  for await (const c of log.read({ from })) out.push([c.seq, text(c.payload)])
  return out
}
