// Adding a user to a home over its admin HTTP API, as an operator's tooling does against a home in another process
// (the tests that kill or measure a child home cannot call `server.addUser`). Fails the test unless it was added.
import { expect } from 'vitest'

/** POSTs `/v1/admin/users` with the admin token and expects `201 Created`. */
export async function addUserOverHttp(home: string, adminToken: string, name: string, token: string): Promise<void> {
  const answer = await fetch(`${home}/v1/admin/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, token }),
  })
  expect(answer.status, `adding ${name} to ${home}`).toBe(201)
}
