// A reference fold of change records into plain structures: what a subscriber applying deltas would hold.
import type { TableChange, TableKind } from '@homedb/tables'

export function emptyStateOf(kind: TableKind): unknown {
  if (kind === 'single') return undefined
  if (kind === 'list') return []
  return new Map()
}

export function applyChange(kind: TableKind, state: unknown, c: TableChange): unknown {
  const change = c as Record<string, unknown> & { op: string }
  switch (kind) {
    case 'single':
      return change.op === 'set' ? change.value : undefined
    case 'list': {
      const arr = [...(state as unknown[])]
      if (change.op === 'push') arr.push(change.value)
      else if (change.op === 'remove') arr.splice(change.index as number, 1)
      else return []
      return arr
    }
    case 'lookupTable': {
      const m = new Map(state as Map<unknown, unknown>)
      if (change.op === 'set') m.set(change.key, change.value)
      else if (change.op === 'remove') m.delete(change.key)
      else return new Map()
      return m
    }
    default: {
      const m = new Map(state as Map<unknown, unknown>)
      const empty = kind === 'lookupList' ? [] : kind === 'lookupSet' ? new Set() : new Map()
      if (change.op === 'clear') return new Map()
      if (change.op === 'createKey') m.set(change.key, empty)
      else if (change.op === 'clearKey') m.delete(change.key)
      else if (kind === 'lookupList') {
        const arr = [...((m.get(change.key) as unknown[]) ?? [])]
        if (change.op === 'push') arr.push(change.value)
        else arr.splice(change.index as number, 1)
        m.set(change.key, arr)
      } else if (kind === 'lookupSet') {
        const set = new Set((m.get(change.key) as Set<unknown>) ?? [])
        if (change.op === 'insert') set.add(change.value)
        else set.delete(change.value)
        m.set(change.key, set)
      } else {
        const inner = new Map((m.get(change.key) as Map<unknown, unknown>) ?? [])
        if (change.op === 'set') inner.set(change.key2, change.value)
        else inner.delete(change.key2)
        m.set(change.key, inner)
      }
      return m
    }
  }
}
