import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { containerFromCgroupLines, containerFromCgroupPath } from './container-id.js'

const ID = 'f3c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e'

describe('containerFromCgroupPath', () => {
  const cases: Array<[string, string]> = [
    [`/docker/${ID}`, 'docker'],
    [`/system.slice/docker-${ID}.scope`, 'docker'],
    [`/kubepods/besteffort/pod0a1b2c3d-0000-1111-2222-333344445555/${ID}`, 'cri'],
    [
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-${ID}.scope`,
      'containerd',
    ],
    [`/kubepods.slice/kubepods-pod1234.slice/crio-${ID}.scope`, 'cri-o'],
    [`/machine.slice/libpod-${ID}.scope`, 'podman'],
    [
      `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`,
      'podman',
    ],
  ]

  for (const [path, type] of cases) {
    it(`finds a ${type} container in ${path.slice(0, 40)}`, () => {
      const container = containerFromCgroupPath(path)

      assert.equal(container?.fullId, ID)
      assert.equal(container?.id, ID.slice(0, 12))
      assert.equal(container?.type, type)
    })
  }

  it('returns null for host cgroups', () => {
    assert.equal(containerFromCgroupPath('/'), null)
    assert.equal(containerFromCgroupPath('/user.slice/user-0.slice/session-3.scope'), null)
    assert.equal(containerFromCgroupPath('/process_api/0758d68f270b1b42461190796f119b0b'), null)
  })

  it('ignores the conmon scope of a CRI-O container', () => {
    assert.equal(containerFromCgroupPath(`/machine.slice/crio-conmon-${ID}.scope`), null)
  })
})

describe('containerFromCgroupLines', () => {
  it('finds the container in any v1 hierarchy', () => {
    const lines = ['12:pids:/', `4:memory:/docker/${ID}`, '1:name=systemd:/']

    assert.equal(containerFromCgroupLines(lines)?.fullId, ID)
  })

  it('returns null when no hierarchy names a container', () => {
    assert.equal(containerFromCgroupLines(['0::/init.scope']), null)
  })
})
