import { readFile, rm, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { StackError } from '../core/errors.js'

export interface FileLockOptions {
  /** Gives up waiting for another holder after this long, in milliseconds. */
  timeoutMs: number
  /** Name of the guarded operation in the timeout error, such as `"peregrine stack up"`. */
  purpose: string
}

const LOCK_POLL_INTERVAL_MS = 200

/**
 * Runs `action` while holding `lockFile`, an exclusively created file with the holder's pid.
 * Waits while another live process holds the lock; a lock whose process is gone is taken over.
 * Throws StackError naming the holder when `timeoutMs` passes first.
 *
 * NOTE: two waiters that find the same stale lock at the same moment can both take it over. Stale
 * locks appear only after a holder was killed, so this window is left open.
 */
export async function withFileLock<T>(
  lockFile: string,
  options: FileLockOptions,
  action: () => Promise<T>,
): Promise<T> {
  await acquire(lockFile, options)
  try {
    return await action()
  } finally {
    await rm(lockFile, { force: true })
  }
}

async function acquire(lockFile: string, options: FileLockOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    try {
      await writeFile(lockFile, `${process.pid}\n`, { flag: 'wx' })
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }

    const holder = await readHolder(lockFile)
    if (holder === 'missing') continue
    if (typeof holder === 'number' && !isProcessAlive(holder)) {
      await rm(lockFile, { force: true })
      continue
    }
    if (Date.now() >= deadline) {
      const holderText = typeof holder === 'number' ? `pid ${holder}` : 'unknown pid'
      throw new StackError(
        `another ${options.purpose} (${holderText}) still holds ${lockFile} after ` +
          `${options.timeoutMs} ms; wait for it to finish, ` +
          'or delete the file if no such process runs',
      )
    }
    await sleep(LOCK_POLL_INTERVAL_MS)
  }
}

/**
 * Returns the holder's pid, 'missing' when the lock was released meanwhile, or 'unknown' when the
 * file has no pid yet: the holder creates the file and writes its pid in two steps.
 */
async function readHolder(lockFile: string): Promise<number | 'missing' | 'unknown'> {
  let text: string
  try {
    text = await readFile(lockFile, 'utf8')
  } catch {
    return 'missing'
  }
  const pid = Number(text.trim())
  return Number.isInteger(pid) && pid > 0 ? pid : 'unknown'
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the pid exists but belongs to another user, so treat the lock as held.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
