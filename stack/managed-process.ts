import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, renameSync } from 'node:fs'
import { open, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { StackError, errorMessage } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { lastLines } from './run-command.js'

export interface ManagedProcessOptions {
  /** Short name used for the pid and log file names, such as `broker`. */
  name: string
  /** Folder that contains `<name>.pid`, `<name>.log` and the previous run's `<name>.log.1`. */
  dataDir: string
  /**
   * Text that the process's command line contains, such as its main class. A live process whose
   * command line lacks it is not ours: the pid was reused after our process ended.
   */
  commandMarker: string
  logger: Logger
}

export type StopOutcome = 'not-running' | 'terminated' | 'killed'

const EXIT_POLL_INTERVAL_MS = 100
const LOG_TAIL_BYTES = 16 * 1024

/**
 * A long-running program started in the background, detached from the caller, with its output in a
 * log file and its pid in a pid file, so a later command can find it and stop it.
 */
export class ManagedProcess {
  readonly name: string
  readonly pidFile: string
  readonly logFile: string
  private readonly commandMarker: string
  private readonly logger: Logger

  constructor(options: ManagedProcessOptions) {
    this.logger = options.logger
    this.name = options.name
    this.pidFile = join(options.dataDir, `${options.name}.pid`)
    this.logFile = join(options.dataDir, `${options.name}.log`)
    this.commandMarker = options.commandMarker
  }

  /**
   * Returns the pid of our process when it is alive. A pid file whose process is gone, or whose
   * pid now belongs to another program, is stale and is removed.
   */
  async findRunningPid(): Promise<number | undefined> {
    const pid = await this.readPidFile()
    if (pid === undefined) return undefined
    if (this.isAlive(pid)) return pid
    await rm(this.pidFile, { force: true })
    this.logger.warn({ pidFile: this.pidFile, stalePid: pid }, 'removed stale pid file')
    return undefined
  }

  /**
   * Tells whether `pid` runs our program. On Linux the command line in /proc must contain the
   * marker, which also rules out an exited child that is still a zombie (its command line is
   * empty). Elsewhere only the existence of the process is checked.
   */
  isAlive(pid: number): boolean {
    try {
      process.kill(pid, 0)
    } catch {
      // ESRCH: no such process. EPERM: the pid belongs to another user, so it is not ours either.
      return false
    }
    if (!existsSync('/proc/self/cmdline')) return true
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.commandMarker)
    } catch {
      // The process ended between the signal check and the read.
      return false
    }
  }

  /**
   * Starts `command` detached in its own process group, appends its output to the log file and
   * writes the pid file. The previous log is kept as `<name>.log.1`. Returns the pid.
   */
  async start(command: string, args: string[], cwd: string): Promise<number> {
    if (existsSync(this.logFile)) renameSync(this.logFile, `${this.logFile}.1`)
    const logFd = openSync(this.logFile, 'a')
    let pid: number | undefined
    try {
      const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', logFd, logFd] })
      pid = child.pid
      const spawnError = await firstSpawnError(child)
      if (spawnError !== undefined || pid === undefined) {
        throw new StackError(`starting the ${this.name} with ${command} failed: ${spawnError}`, {
          cause: spawnError,
        })
      }
      child.unref()
    } finally {
      closeSync(logFd)
    }
    await writeFile(this.pidFile, `${pid}\n`)
    return pid
  }

  /**
   * Sends SIGTERM, waits up to `timeoutMs` for the process to exit, then sends SIGKILL and waits
   * again. Removes the pid file. Does nothing when the process does not run.
   */
  async stop(timeoutMs: number): Promise<StopOutcome> {
    const pid = await this.findRunningPid()
    if (pid === undefined) return 'not-running'

    let outcome: StopOutcome = 'terminated'
    signalProcess(pid, 'SIGTERM')
    if (!(await this.waitForExit(pid, timeoutMs))) {
      outcome = 'killed'
      signalProcess(pid, 'SIGKILL')
      if (!(await this.waitForExit(pid, timeoutMs))) {
        throw new StackError(
          `the ${this.name} (pid ${pid}) did not exit after SIGKILL; check it with "ps -p ${pid}"`,
        )
      }
    }
    await rm(this.pidFile, { force: true })
    return outcome
  }

  /** Waits until the process has exited; returns false when `timeoutMs` passed first. */
  async waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (this.isAlive(pid)) {
      if (Date.now() >= deadline) return false
      await sleep(EXIT_POLL_INTERVAL_MS)
    }
    return true
  }

  /** Returns the last `count` lines of the log file, or an empty string when there is none. */
  async readLogTail(count: number): Promise<string> {
    let handle
    try {
      handle = await open(this.logFile, 'r')
    } catch {
      // No log yet: the process was never started in this folder.
      return ''
    }
    try {
      const { size } = await handle.stat()
      const length = Math.min(size, LOG_TAIL_BYTES)
      const buffer = Buffer.alloc(length)
      await handle.read(buffer, 0, length, size - length)
      return lastLines(buffer.toString('utf8'), count)
    } finally {
      await handle.close()
    }
  }

  private async readPidFile(): Promise<number | undefined> {
    let text: string
    try {
      text = await readFile(this.pidFile, 'utf8')
    } catch {
      // No pid file: nothing was started, or it was stopped cleanly.
      return undefined
    }
    const pid = Number(text.trim())
    if (Number.isInteger(pid) && pid > 0) return pid
    await rm(this.pidFile, { force: true })
    return undefined
  }
}

/** Resolves with the spawn error, or undefined once the process has started. */
async function firstSpawnError(child: ReturnType<typeof spawn>): Promise<Error | undefined> {
  return await new Promise((resolve) => {
    // Kept for the child's lifetime: an 'error' event without a listener would crash the caller.
    child.on('error', resolve)
    child.once('spawn', () => resolve(undefined))
  })
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return
    throw new StackError(`sending ${signal} to pid ${pid} failed: ${errorMessage(error)}`, {
      cause: error,
    })
  }
}
