import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { UserDirectory, parseGroup, parsePasswd } from './user-directory.js'

function makeRoot(passwd: string, group: string): string {
  const root = mkdtempSync(join(tmpdir(), 'peregrine-users-'))
  mkdirSync(join(root, 'etc'))
  writeFileSync(join(root, 'etc/passwd'), passwd)
  writeFileSync(join(root, 'etc/group'), group)
  return root
}

describe('parsePasswd', () => {
  it('reads name, home and shell by uid', () => {
    const users = parsePasswd('root:x:0:0:root:/root:/bin/bash\n# comment\nbroken\n')

    assert.deepEqual(users.get(0), { name: 'root', homedir: '/root', shell: '/bin/bash' })
    assert.equal(users.size, 1)
  })

  it('keeps the first entry of a repeated uid', () => {
    const users = parsePasswd('a:x:5:5::/a:/bin/sh\nb:x:5:5::/b:/bin/sh\n')

    assert.equal(users.get(5)?.name, 'a')
  })
})

describe('parseGroup', () => {
  it('reads group names by gid', () => {
    assert.equal(parseGroup('wheel:x:10:alice,bob\n').get(10), 'wheel')
  })
})

describe('UserDirectory', () => {
  it('reads the files again after the refresh interval', () => {
    const root = makeRoot('alice:x:1000:1000::/home/alice:/bin/bash\n', 'alice:x:1000:\n')
    let nowMs = 0
    const users = new UserDirectory({ refreshIntervalMs: 1000, maxRoots: 4, now: () => nowMs })
    assert.equal(users.user(root, 1000)?.name, 'alice')

    writeFileSync(join(root, 'etc/passwd'), 'alicia:x:1000:1000::/home/a:/bin/sh\n')
    nowMs = 500
    assert.equal(users.user(root, 1000)?.name, 'alice')
    nowMs = 1500

    assert.equal(users.user(root, 1000)?.name, 'alicia')
    assert.equal(users.group(root, 1000), 'alice')
  })

  it('returns null for a root without user files', () => {
    const users = new UserDirectory({ refreshIntervalMs: 1000, maxRoots: 4 })

    assert.equal(users.user('/nonexistent-root', 0), null)
    assert.equal(users.group('/nonexistent-root', 0), null)
  })

  it('retries an unreadable root sooner', () => {
    const root = mkdtempSync(join(tmpdir(), 'peregrine-users-'))
    let nowMs = 0
    const users = new UserDirectory({ refreshIntervalMs: 30_000, maxRoots: 4, now: () => nowMs })
    assert.equal(users.user(root, 0, 'container-1'), null)

    mkdirSync(join(root, 'etc'))
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
    nowMs = 999
    assert.equal(users.user(root, 0, 'container-1'), null)
    nowMs = 1000

    assert.equal(users.user(root, 0, 'container-1')?.name, 'root')
  })
})
