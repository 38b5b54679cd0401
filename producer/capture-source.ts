import { spawn } from 'node:child_process'
import type { ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'
import { access, constants } from 'node:fs/promises'
import { hostname } from 'node:os'
import { SourceError, errorMessage } from '../core/errors.js'
import { silentLogger } from '../core/logger.js'
import type { Logger } from '../core/logger.js'
import type { SyscallEvent } from '../schemas/types.js'
import type { EventSource, SourceStats } from './event-source.js'
import { LineTooLongError, readLines } from './line-reader.js'
import {
  StderrTail,
  describeSpawnFailure,
  describeSysdigFailure,
  loadEventTable,
} from './sysdig-command.js'
import { SysdigEventConverter } from './sysdig-event-converter.js'
import type { Conversion } from './sysdig-event-converter.js'
import { SYSDIG_FIELDS, ancestorFields, buildFormat, parseSysdigLine } from './sysdig-fields.js'

export interface CaptureSourceOptions {
  /** Host name written into every event; defaults to this machine's name. */
  hostname?: string
  /** sysdig binary to run; defaults to `sysdig` on the PATH. */
  sysdigPath?: string
  /**
   * Ancestor levels read per event (proc.apid[1..N]); default 12. Falco's stable rules index up
   * to proc.aname[7], and the process trees in the upstream Falco test captures nest up to 11
   * levels deep. Each level adds about 3 % to the read time (measured in BENCHMARKS.md at the repository root).
   */
  maxAncestors?: number
  /** Maximum length of a sysdig output line, in characters; default 16 MiB. */
  maxLineLength?: number
  /** Threads whose enter parameters wait for their exit event; default 65536. */
  maxTrackedThreads?: number
  /** Processes remembered to describe ancestors; default 65536. */
  maxTrackedProcesses?: number
  logger?: Logger
}

const DEFAULT_MAX_ANCESTORS = 12
const DEFAULT_MAX_LINE_LENGTH = 16 * 1024 * 1024
const DEFAULT_MAX_TRACKED_THREADS = 65536
const DEFAULT_MAX_TRACKED_PROCESSES = 65536
/** Reason counted in stats().dropped for output lines that do not parse as JSON. */
const INVALID_OUTPUT = 'invalid sysdig output'
/** Error text of sysdig for a -p token that names a field it does not have. */
const INVALID_TOKEN = /invalid formatting token (\S+)/

type SysdigProcess = ChildProcessByStdio<null, Readable, Readable>

interface SysdigRun {
  child: SysdigProcess
  stderr: StderrTail
  exit: Promise<{ exitCode: number | null; signalName: string | null }>
}

/**
 * Reads a Falco or sysdig capture file (.scap) through the installed sysdig binary
 * (`sysdig -r FILE -v -j -p FORMAT`), streaming its JSON output line by line. Yields one
 * SyscallEvent per syscall exit event and per `container`, `procexit` and `signaldeliver` meta
 * event. Enter events are counted in `stats().skipped`, and their parameters are kept for the exit
 * event of the same thread. See sysdig-fields.ts for where each field comes from.
 */
export class CaptureSource implements EventSource {
  readonly name: string
  readonly path: string
  private readonly hostname: string
  private readonly sysdigPath: string
  private readonly maxAncestors: number
  private readonly maxLineLength: number
  private readonly maxTrackedThreads: number
  private readonly maxTrackedProcesses: number
  private readonly logger: Logger
  private readonly counts: SourceStats = { eventsRead: 0, skipped: {}, dropped: {} }
  private child: SysdigProcess | null = null
  private isClosed = false

  constructor(path: string, options: CaptureSourceOptions = {}) {
    this.path = path
    this.name = `capture:${path}`
    this.hostname = options.hostname ?? hostname()
    this.sysdigPath = options.sysdigPath ?? 'sysdig'
    this.maxAncestors = options.maxAncestors ?? DEFAULT_MAX_ANCESTORS
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH
    this.maxTrackedThreads = options.maxTrackedThreads ?? DEFAULT_MAX_TRACKED_THREADS
    this.maxTrackedProcesses = options.maxTrackedProcesses ?? DEFAULT_MAX_TRACKED_PROCESSES
    this.logger = (options.logger ?? silentLogger()).child({ component: 'capture-source' })
  }

  /**
   * Yields the capture's events in file order. Throws SourceError when sysdig is missing, the file
   * cannot be read, or sysdig fails part way; events yielded before the failure stay valid.
   * Aborting `signal` stops sysdig and ends the iteration without an error.
   */
  async *events(signal: AbortSignal): AsyncGenerator<SyscallEvent> {
    if (signal.aborted) return
    await this.checkReadable()
    const converter = new SysdigEventConverter({
      hostname: this.hostname,
      eventTable: await loadEventTable(this.sysdigPath),
      maxAncestors: this.maxAncestors,
      maxTrackedThreads: this.maxTrackedThreads,
      maxTrackedProcesses: this.maxTrackedProcesses,
    })

    const fields: string[] = [...SYSDIG_FIELDS, ...ancestorFields(this.maxAncestors)]
    for (;;) {
      const run = this.startSysdig(fields)
      const stopOnAbort = (): void => {
        run.child.kill('SIGTERM')
      }
      signal.addEventListener('abort', stopOnAbort, { once: true })
      let linesRead = 0
      try {
        for await (const line of this.readOutput(run)) {
          linesRead++
          const event = this.convertLine(converter, line, linesRead)
          if (event !== null) yield event
          if (signal.aborted) return
        }
        const { exitCode, signalName } = await run.exit
        if (signal.aborted || this.isClosed || exitCode === 0) return

        const stderr = run.stderr.errors()
        const badField = INVALID_TOKEN.exec(stderr)?.[1]
        if (linesRead > 0 || badField === undefined || !fields.includes(badField)) {
          throw describeSysdigFailure(this.path, exitCode, signalName, stderr)
        }
        // Another sysdig version may lack one of our fields, so read the file again without it.
        this.logger.warn({ field: badField }, 'sysdig rejected a field, reading again without it')
        fields.splice(fields.indexOf(badField), 1)
      } finally {
        signal.removeEventListener('abort', stopOnAbort)
        this.stopChild(run.child)
      }
    }
  }

  stats(): SourceStats {
    return {
      eventsRead: this.counts.eventsRead,
      skipped: { ...this.counts.skipped },
      dropped: { ...this.counts.dropped },
    }
  }

  /** Stops sysdig; an iteration in progress then ends without an error. */
  async close(): Promise<void> {
    this.isClosed = true
    if (this.child !== null) this.stopChild(this.child)
  }

  private async checkReadable(): Promise<void> {
    try {
      await access(this.path, constants.R_OK)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      const problem =
        code === 'ENOENT'
          ? 'does not exist'
          : code === 'EACCES'
            ? 'is not readable by this user'
            : `cannot be opened (${errorMessage(error)})`
      throw new SourceError(`capture file ${this.path} ${problem}`, {
        cause: error,
        context: { file: this.path },
      })
    }
  }

  private startSysdig(fields: string[]): SysdigRun {
    const args = ['-r', this.path, '-v', '-j', '-p', buildFormat(fields)]
    this.logger.debug({ file: this.path, fieldCount: fields.length }, 'starting sysdig')
    const child = spawn(this.sysdigPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    const stderr = new StderrTail()
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.append(chunk))
    const exit = new Promise<{ exitCode: number | null; signalName: string | null }>(
      (resolve, reject) => {
        child.on('error', (error) => reject(describeSpawnFailure(this.sysdigPath, error)))
        child.on('close', (exitCode, signalName) => resolve({ exitCode, signalName }))
      },
    )
    // Rejections are read through `await run.exit`. This handler keeps an unread one from
    // crashing Node.
    exit.catch(() => undefined)
    return { child, stderr, exit }
  }

  private async *readOutput(run: SysdigRun): AsyncGenerator<string> {
    try {
      yield* readLines(run.child.stdout.setEncoding('utf8'), this.maxLineLength)
    } catch (error) {
      if (!(error instanceof LineTooLongError)) throw error
      throw new SourceError(
        `sysdig printed a line longer than ${error.maxLineLength} characters for ${this.path}; ` +
          'raise the maxLineLength option if the capture holds such large events',
        { cause: error, context: { file: this.path } },
      )
    }
  }

  private convertLine(
    converter: SysdigEventConverter,
    line: string,
    lineNumber: number,
  ): SyscallEvent | null {
    let conversion: Conversion
    try {
      conversion = converter.convert(parseSysdigLine(line))
    } catch (error) {
      conversion = { dropped: INVALID_OUTPUT }
      // Logged once per run, then only counted, since a broken sysdig would repeat it per line.
      if (this.counts.dropped[INVALID_OUTPUT] === undefined) {
        this.logger.warn({ err: error, file: this.path, line: lineNumber }, 'sysdig line dropped')
      }
    }
    if ('event' in conversion) {
      this.counts.eventsRead++
      return conversion.event
    }
    const counts = 'skipped' in conversion ? this.counts.skipped : this.counts.dropped
    const reason = 'skipped' in conversion ? conversion.skipped : conversion.dropped
    counts[reason] = (counts[reason] ?? 0) + 1
    return null
  }

  private stopChild(child: SysdigProcess): void {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    if (this.child === child) this.child = null
  }
}
