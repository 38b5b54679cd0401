import { statSync } from 'node:fs'
import { hostname as machineName } from 'node:os'
import { ConfigError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { CaptureSource } from './capture-source.js'
import type { EventSource } from './event-source.js'
import { EventsFileSource } from './events-file-source.js'
import { GeneratorSource } from './generator-source.js'

export const SOURCE_KINDS = ['capture', 'events', 'generator'] as const

export interface SourceFactoryOptions {
  /** Host name written into events; the machine's name when unset. */
  hostname?: string
  logger: Logger
}

/**
 * Creates the event source a `--source` value names:
 *
 *   capture:FILE     a Falco/sysdig capture file (.scap), read through sysdig
 *   events:FILE      Peregrine's JSON-lines event file
 *   generator:COUNT  COUNT synthetic events of a realistic mix, for demos and load tests
 *
 * Throws ConfigError naming the value and the accepted forms when it matches none of them.
 */
export function createEventSource(spec: string, options: SourceFactoryOptions): EventSource {
  const separator = spec.indexOf(':')
  const kind = separator < 0 ? spec : spec.slice(0, separator)
  const argument = separator < 0 ? '' : spec.slice(separator + 1)
  const hostname = options.hostname ?? machineName()

  if (kind === 'capture' && argument !== '') {
    checkRegularFile(argument)
    return new CaptureSource(argument, { hostname, logger: options.logger })
  }
  if (kind === 'events' && argument !== '') {
    checkRegularFile(argument)
    return new EventsFileSource(argument, { logger: options.logger })
  }
  if (kind === 'generator' && /^\d+$/.test(argument))
    return new GeneratorSource({ count: Number(argument), hostname })
  throw new ConfigError(
    `--source "${spec}" is invalid; use capture:FILE (a .scap capture), events:FILE (a JSON-lines event file) or generator:COUNT`,
  )
}

/**
 * Rejects paths that exist but are not regular files. A FIFO would block the read until a writer
 * appears, past any signal; a missing file is left to the source, which reports it when read.
 */
function checkRegularFile(path: string): void {
  let stats
  try {
    stats = statSync(path)
  } catch {
    return
  }
  if (!stats.isFile()) {
    throw new ConfigError(`${path} is not a regular file; give a capture or event file`)
  }
}
