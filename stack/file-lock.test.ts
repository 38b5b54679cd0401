import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { StackError } from '../core/errors.js'
import { withFileLock } from './file-lock.js'

/** Larger than any pid Linux hands out (pid_max is at most 2^22), so never a live process. */
const UNUSED_PID = 2 ** 30
const OPTIONS = { timeoutMs: 5000, purpose: 'test run' }

describe('withFileLock', () => {
  let folder: string
  let lockFile: string

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'peregrine-lock-'))
    lockFile = join(folder, 'test.lock')
  })

  after(async () => {
    await rm(folder, { recursive: true, force: true })
  })

  it('runs concurrent holders one after another', async () => {
    const events: string[] = []
    const hold = async (name: string): Promise<void> => {
      await withFileLock(lockFile, OPTIONS, async () => {
        events.push(`${name} start`)
        await sleep(50)
        events.push(`${name} end`)
      })
    }

    await Promise.all([hold('first'), hold('second')])

    assert.equal(events.length, 4)
    assert.equal(events[0].split(' ')[0], events[1].split(' ')[0])
    assert.equal(events[1].endsWith('end'), true)
    assert.equal(events[2].split(' ')[0], events[3].split(' ')[0])
  })

  it('takes over a lock whose holder is gone', async () => {
    await writeFile(lockFile, `${UNUSED_PID}\n`)

    const result = await withFileLock(lockFile, OPTIONS, async () => 'ran')

    assert.equal(result, 'ran')
    assert.equal(existsSync(lockFile), false)
  })

  it('names the live holder when the wait times out', async () => {
    await writeFile(lockFile, `${process.pid}\n`)

    await assert.rejects(
      withFileLock(lockFile, { timeoutMs: 300, purpose: 'test run' }, async () => 'ran'),
      (error: unknown) => {
        assert.ok(error instanceof StackError)
        assert.match(
          error.message,
          new RegExp(`another test run \\(pid ${process.pid}\\) still holds`),
        )
        return true
      },
    )
    await rm(lockFile, { force: true })
  })

  it('releases the lock when the action throws', async () => {
    await assert.rejects(
      withFileLock(lockFile, OPTIONS, async () => {
        throw new Error('action failed')
      }),
      /action failed/,
    )

    assert.equal(existsSync(lockFile), false)
  })
})
