// A response body that holds a resource (a pinned log) while it streams: the resource is released when the body
// ends, fails, or is abandoned — also when the client goes away before a byte was read (the HTTP adapter then
// returns the iterator without ever calling next, which a generator's `finally` would not see).

/** Wraps `source` so `release` runs exactly once when it ends, throws or is returned. */
export function leased<T>(source: AsyncIterable<T>, release: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const inner = source[Symbol.asyncIterator]()
      let released = false
      const end = () => {
        if (released) return
        released = true
        release()
      }
      return {
        async next() {
          try {
            const step = await inner.next()
            if (step.done) end()
            return step
          } catch (error) {
            end()
            throw error
          }
        },
        async return(value?: unknown) {
          end()
          await inner.return?.(value)
          return { done: true, value: undefined }
        },
      }
    },
  }
}
