import { spawn } from 'node:child_process'
import { SourceError } from '../core/errors.js'
import { parseEventTable } from './sysdig-params.js'
import type { EventTable } from './sysdig-params.js'

/** How to get sysdig when it is missing; reading a file needs neither the kernel module nor root. */
export const SYSDIG_INSTALL_HINT =
  'install it with "apt-get install --no-install-recommends sysdig" or set the sysdigPath option'

/** Tail of sysdig's stderr kept for error messages. */
const MAX_STDERR_CHARS = 8192
/** Lines sysdig -v writes to stderr on every run; they are statistics, not errors. */
const STDERR_STATISTICS =
  /^(Driver Events|Driver Drops|Suppressed by Comm|Elapsed time|Captured Events):?/

const eventTables = new Map<string, Promise<EventTable>>()

/**
 * Reads the event parameter names of the installed sysdig (`sysdig -L`) once per sysdig path.
 * Throws SourceError when sysdig cannot be run.
 */
export function loadEventTable(sysdigPath: string): Promise<EventTable> {
  let table = eventTables.get(sysdigPath)
  if (table === undefined) {
    table = runListing(sysdigPath)
    eventTables.set(sysdigPath, table)
    // A failed attempt is not cached, so installing sysdig fixes the next run.
    table.catch(() => eventTables.delete(sysdigPath))
  }
  return table
}

/** Collects the tail of a child's stderr, without the statistics lines of `sysdig -v`. */
export class StderrTail {
  private text = ''

  append(chunk: string): void {
    this.text = (this.text + chunk).slice(-MAX_STDERR_CHARS)
  }

  /** Returns the error lines joined by `; `. */
  errors(): string {
    return this.text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !STDERR_STATISTICS.test(line))
      .join('; ')
  }
}

/**
 * Builds the error for a sysdig run that failed on `capturePath`, naming the file and what to do.
 * sysdig 0.29 exits with 1 for every failure, so the message is read from stderr.
 */
export function describeSysdigFailure(
  capturePath: string,
  exitCode: number | null,
  signalName: string | null,
  stderr: string,
): SourceError {
  const context = { file: capturePath, exitCode, stderr }
  if (/could not initialize reader|is the file truncated|invalid block type/i.test(stderr)) {
    return new SourceError(
      `sysdig cannot read ${capturePath}: the file is not a capture file, is truncated or ` +
        'corrupt, or uses a newer capture format than this sysdig reads (section-header options, ' +
        'for instance, need Falco libs from 2025 on). Check it with "sysdig -r FILE", or read ' +
        `it with a newer sysdig or Falco. sysdig reported: ${stderr}`,
      { context },
    )
  }
  const ending =
    exitCode === null ? `was killed by ${signalName ?? 'a signal'}` : `exited with code ${exitCode}`
  return new SourceError(`reading ${capturePath} with sysdig failed: sysdig ${ending}: ${stderr}`, {
    context,
  })
}

/** Builds the error for a sysdig binary that could not be started. */
export function describeSpawnFailure(
  sysdigPath: string,
  error: NodeJS.ErrnoException,
): SourceError {
  if (error.code === 'ENOENT') {
    return new SourceError(`sysdig was not found at "${sysdigPath}"; ${SYSDIG_INSTALL_HINT}`, {
      cause: error,
    })
  }
  return new SourceError(`starting sysdig at "${sysdigPath}" failed: ${error.message}`, {
    cause: error,
  })
}

function runListing(sysdigPath: string): Promise<EventTable> {
  return new Promise((resolve, reject) => {
    const child = spawn(sysdigPath, ['-L'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let listing = ''
    const stderr = new StderrTail()
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (listing += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.append(chunk))
    child.on('error', (error) => reject(describeSpawnFailure(sysdigPath, error)))
    child.on('close', (exitCode) => {
      const table = parseEventTable(listing)
      if (exitCode === 0 && table.size > 0) return resolve(table)
      reject(
        new SourceError(
          `"${sysdigPath} -L" did not list the event parameters (exit code ${exitCode}: ` +
            `${stderr.errors() || 'no output'}); check that it is sysdig 0.29 or later`,
        ),
      )
    })
  })
}
