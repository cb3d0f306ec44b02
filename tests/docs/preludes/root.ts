// The prelude of the root README's example: it defines everything it uses.
import type { Fixtures } from '../fixtures.js'

/** Prepares a program's directory: nothing to prepare. */
export async function setup(): Promise<void> {}

export const fixtures = {} satisfies Fixtures
