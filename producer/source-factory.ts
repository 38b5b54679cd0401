import { statSync } from 'node:fs'
import { hostname as machineName } from 'node:os'
import { ConfigError, PeregrineError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { ProbeAvailability } from '../native/src/index.js'
import { CaptureSource } from './capture-source.js'
import { EbpfSource } from './ebpf-source.js'
import type { EbpfSourceOptions } from './ebpf-source.js'
import type { EventSource } from './event-source.js'
import { EventsFileSource } from './events-file-source.js'
import { GeneratorSource } from './generator-source.js'

export const SOURCE_KINDS = ['capture', 'events', 'generator', 'ebpf'] as const

export interface SourceFactoryOptions {
  /** Host name written into events, the machine's name when unset. */
  hostname?: string
  logger: Logger
  /** Event types the live probe traces, every supported syscall when unset. */
  syscalls?: readonly string[]
  /** Further options of the live source, for benchmarks and tests. */
  ebpf?: Omit<EbpfSourceOptions, 'hostname' | 'logger' | 'syscalls'>
}

/**
 * Creates the event source a `--source` value names:
 *
 *   capture:FILE     a Falco/sysdig capture file (.scap), read through sysdig
 *   events:FILE      Peregrine's JSON-lines event file
 *   generator:COUNT  COUNT synthetic events of a realistic mix, for demos and load tests
 *   ebpf             this host's syscalls, live, from the eBPF probe
 *
 * Throws ConfigError naming the value and the accepted forms when it matches none of them, and
 * PeregrineError PEREGRINE_PROBE_UNAVAILABLE, with the reason, when `ebpf` cannot run here.
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
  if (spec === 'ebpf') return createEbpfSource(hostname, options)
  throw new ConfigError(
    `--source "${spec}" is invalid; use capture:FILE (a .scap capture), events:FILE (a JSON-lines event file), generator:COUNT or ebpf (this host, live)`,
  )
}

function createEbpfSource(hostname: string, options: SourceFactoryOptions): EbpfSource {
  // A caller that brings its own probe opener (a test's fake probe) needs no kernel support.
  const availability: ProbeAvailability =
    options.ebpf?.openProbe === undefined ? EbpfSource.availability() : { isAvailable: true }
  if (!availability.isAvailable) {
    throw new PeregrineError(
      'PEREGRINE_PROBE_UNAVAILABLE',
      `the eBPF probe cannot run on this host: ${availability.reason}`,
    )
  }
  const ringBytes = options.ebpf?.ringBytes
  if (ringBytes !== undefined && (ringBytes & (ringBytes - 1)) !== 0) {
    throw new ConfigError(
      `the eBPF ring buffer size ${ringBytes} bytes is invalid; use a power of two (PEREGRINE_PRODUCER_EBPF_RING_MIB 1, 2, 4 ... 1024)`,
    )
  }
  return new EbpfSource({
    ...options.ebpf,
    hostname,
    syscalls: options.syscalls,
    logger: options.logger,
  })
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
