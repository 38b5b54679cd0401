import { createReadStream } from 'node:fs'
import type { ReadStream } from 'node:fs'
import { SourceError, errorMessage } from '../core/errors.js'
import { silentLogger } from '../core/logger.js'
import type { Logger } from '../core/logger.js'
import type { SyscallEvent } from '../schemas/types.js'
import { EventJsonError, decodeEventJson } from './event-json.js'
import type { EventSource, SourceStats } from './event-source.js'
import { LineTooLongError, readLines } from './line-reader.js'

export interface EventsFileSourceOptions {
  /**
   * Handling of invalid lines. With `fail` (the default) the source throws SourceError naming the
   * file and line, so no event is lost unnoticed. With `skip` it counts the line in
   * `stats().dropped['invalid line']`, logs the first one at warn and the rest at debug, and reads
   * on.
   */
  onInvalidLine?: 'fail' | 'skip'
  /** Maximum line length, in characters; default 16 MiB. A longer line stops the source. */
  maxLineLength?: number
  logger?: Logger
}

/** Reason counted in stats().dropped for lines skipped with `onInvalidLine: 'skip'`. */
export const INVALID_LINE = 'invalid line'

const DEFAULT_MAX_LINE_LENGTH = 16 * 1024 * 1024

/**
 * Reads Peregrine's own event file format: JSON lines, one SyscallEvent per line with the field
 * names of the Avro schema (see producer/README.md, "Event file format", and event-json.ts).
 * Blank lines and lines whose first non-blank character is `#` are comments.
 */
export class EventsFileSource implements EventSource {
  readonly name: string
  readonly path: string
  private readonly onInvalidLine: 'fail' | 'skip'
  private readonly maxLineLength: number
  private readonly logger: Logger
  private readonly counts: SourceStats = { eventsRead: 0, skipped: {}, dropped: {} }
  private stream: ReadStream | null = null
  private isClosed = false

  constructor(path: string, options: EventsFileSourceOptions = {}) {
    this.path = path
    this.name = `events:${path}`
    this.onInvalidLine = options.onInvalidLine ?? 'fail'
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH
    this.logger = (options.logger ?? silentLogger()).child({ component: 'events-file-source' })
  }

  /**
   * Yields the file's events in line order. Throws SourceError when the file cannot be read, and
   * on the first invalid line unless `onInvalidLine` is `skip`; events yielded before stay valid.
   * Aborting `signal` ends the iteration without an error.
   */
  async *events(signal: AbortSignal): AsyncGenerator<SyscallEvent> {
    if (signal.aborted) return
    const stream = createReadStream(this.path, { encoding: 'utf8' })
    this.stream = stream
    let lineNumber = 0
    try {
      for await (const line of readLines(stream, this.maxLineLength)) {
        lineNumber++
        if (signal.aborted || this.isClosed) return
        const event = this.decodeLine(line, lineNumber)
        if (event !== null) yield event
      }
    } catch (error) {
      if (this.isClosed) return
      throw this.describeReadFailure(error, lineNumber)
    } finally {
      stream.destroy()
      this.stream = null
    }
  }

  stats(): SourceStats {
    return {
      eventsRead: this.counts.eventsRead,
      skipped: { ...this.counts.skipped },
      dropped: { ...this.counts.dropped },
    }
  }

  /** Closes the file; an iteration in progress then ends without an error. */
  async close(): Promise<void> {
    this.isClosed = true
    this.stream?.destroy()
    this.stream = null
  }

  private decodeLine(line: string, lineNumber: number): SyscallEvent | null {
    const text = line.trim()
    if (text === '' || text.startsWith('#')) return null
    try {
      const event = decodeEventJson(parseJson(text))
      this.counts.eventsRead++
      return event
    } catch (error) {
      if (!(error instanceof EventJsonError)) throw error
      const failure = this.lineError(lineNumber, error.message, error)
      if (this.onInvalidLine === 'fail') throw failure

      const dropped = (this.counts.dropped[INVALID_LINE] ?? 0) + 1
      this.counts.dropped[INVALID_LINE] = dropped
      const level = dropped === 1 ? 'warn' : 'debug'
      this.logger[level]({ err: failure, file: this.path, line: lineNumber }, 'event line skipped')
      return null
    }
  }

  private describeReadFailure(error: unknown, lineNumber: number): unknown {
    if (error instanceof SourceError) return error
    if (error instanceof LineTooLongError) {
      return this.lineError(
        error.lineNumber,
        `the line is longer than ${error.maxLineLength} characters; raise the maxLineLength option`,
        error,
      )
    }
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      return new SourceError(`event file ${this.path} does not exist`, {
        cause: error,
        context: { file: this.path },
      })
    }
    if (code === undefined) return error
    return new SourceError(
      `reading event file ${this.path} failed after line ${lineNumber}: ${errorMessage(error)}`,
      { cause: error, context: { file: this.path, line: lineNumber } },
    )
  }

  private lineError(lineNumber: number, problem: string, cause: Error): SourceError {
    return new SourceError(`${this.path}:${lineNumber}: ${problem}`, {
      cause,
      context: { file: this.path, line: lineNumber },
    })
  }
}

/** JSON.parse that reports a syntax error as an EventJsonError of the whole line. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new EventJsonError('', `is not valid JSON: ${errorMessage(error)}`)
  }
}
