// The etcd harness starts real members that a client can use, and a three-member cluster keeps serving
// linearizable reads and writes after one member is killed (what the directory's etcd backend relies on).
import { Etcd3 } from 'etcd3'
import { afterEach, describe, expect, it } from 'vitest'
import { type EtcdCluster, startEtcd } from './etcd.js'

let cluster: EtcdCluster | undefined
let client: Etcd3 | undefined

afterEach(async () => {
  client?.close()
  client = undefined
  await cluster?.close()
  cluster = undefined
})

describe('etcd harness', () => {
  it('starts one member that stores and returns a key', async () => {
    cluster = await startEtcd()
    client = new Etcd3({ hosts: cluster.hosts })
    await client.put('greeting').value('hello')
    expect(await client.get('greeting').string()).toBe('hello')
  })

  it('keeps a three-member cluster writable after a member is killed, and the member rejoins', async () => {
    cluster = await startEtcd({ members: 3 })
    client = new Etcd3({ hosts: cluster.hosts })
    await client.put('k').value('1')
    await cluster.members[0]!.kill()
    expect(cluster.members[0]!.process).toBeUndefined()
    await client.put('k').value('2')
    expect(await client.get('k').string()).toBe('2')
    await cluster.members[0]!.restart()
    const direct = new Etcd3({ hosts: [cluster.members[0]!.host] })
    try {
      expect(await direct.get('k').string()).toBe('2')
    } finally {
      direct.close()
    }
  })
})
