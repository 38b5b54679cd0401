import { existsSync } from 'node:fs'
import { hostname as osHostname } from 'node:os'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'

import { silentLogger } from '../core/logger.js'
import { MAX_RECORD_BYTES, openProbe, probeAvailability } from '../native/src/index.js'
import { EventBuilder } from './ebpf/event-builder.js'
import { RecordReader } from './ebpf/record-decoder.js'
import { buildSyscallSpecs } from './ebpf/syscall-table.js'
import { DOCKER_SOCKET, DockerMetadata } from './state/docker-metadata.js'
import { createProcReader } from './state/proc-reader.js'
import { ProcessTable } from './state/process-table.js'
import { UserDirectory } from './state/user-directory.js'
import type { Logger } from '../core/logger.js'
import type { Probe, ProbeAvailability, ProbeOpener, ProbeStats } from '../native/src/index.js'
import type { SyscallEvent } from '../schemas/types.js'
import type { DecodeProblems, ProbeRecord } from './ebpf/record-decoder.js'
import type { EventSource, SourceStats } from './event-source.js'
import type { ContainerMetadataSource } from './state/docker-metadata.js'
import type { ProcReader } from './state/proc-reader.js'
import type { ProcessEntry } from './state/process-table.js'

export interface EbpfSourceOptions {
  /** Host name written into every event; the machine's name by default. */
  hostname?: string
  /** Kernel ring buffer size in bytes, a power of two (default 32 MiB). */
  ringBytes?: number
  /** Falco event types to trace (default: every syscall the probe supports). */
  syscalls?: readonly string[]
  /** Bytes copied out of the ring per read (default 1 MiB, at least one maximum-size record). */
  batchBytes?: number
  /** Wait between reads of an empty ring, the added latency at low rates (default 5 ms). */
  pollIntervalMs?: number
  /** Processes kept in the process table (default 32768). */
  maxProcesses?: number
  /** Descriptors kept per process (default 1024). */
  maxFdsPerProcess?: number
  /** Ancestors listed in each event (default 8). */
  maxAncestors?: number
  /** How often /etc/passwd and /etc/group are read again (default 30 s). */
  userRefreshIntervalMs?: number
  /** Root folders whose user files are cached at once (default 256). */
  maxUserRoots?: number
  /** Announced containers remembered; past that the set restarts (default 4096). */
  maxContainers?: number
  /** Reads /proc; tests pass a fake tree. */
  procReader?: ProcReader
  /** Opens the kernel probe; tests pass a fake. */
  openProbe?: ProbeOpener
  /**
   * Container runtime API for names, images, labels and mounts. Default: the Docker API when
   * /var/run/docker.sock exists, else none. Null turns the lookups off.
   */
  containerMetadata?: ContainerMetadataSource | null
  logger?: Logger
}

const DEFAULTS = {
  // About a second of records at 200k syscalls/s (~130 bytes each), so the ring rides out pauses
  // of the consumer such as garbage collection. bench-probe lost records at 8 MiB under load.
  ringBytes: 32 * 1024 * 1024,
  batchBytes: 1024 * 1024,
  pollIntervalMs: 5,
  maxProcesses: 32768,
  maxFdsPerProcess: 1024,
  maxAncestors: 8,
  userRefreshIntervalMs: 30_000,
  maxUserRoots: 256,
  maxContainers: 4096,
}

/**
 * The live source: syscalls of this host from the eBPF probe, turned into self-contained
 * SyscallEvents. State (processes, descriptors, users, containers) is seeded from /proc when
 * `events()` starts and kept by the probe's records. Memory is bounded by the option caps.
 */
export class EbpfSource implements EventSource {
  readonly name = 'ebpf'
  readonly isLive = true
  private readonly options: Required<
    Omit<EbpfSourceOptions, 'syscalls' | 'hostname' | 'logger' | 'containerMetadata'>
  > & {
    syscalls?: readonly string[]
    hostname: string
    containerMetadata: ContainerMetadataSource | null
  }

  private readonly logger: Logger
  private readonly announcedContainers = new Set<string>()
  private readonly decodeProblems: DecodeProblems = { unknownKind: 0, truncated: 0 }
  private readonly skipped: Record<string, number> = {}
  private probe: Probe | null = null
  private finalProbeStats: ProbeStats | null = null
  private isClosed = false
  private eventsRead = 0

  constructor(options: EbpfSourceOptions = {}) {
    this.options = {
      ...DEFAULTS,
      procReader: createProcReader(),
      openProbe,
      ...stripUndefined(options),
      hostname: options.hostname ?? osHostname(),
      containerMetadata:
        options.containerMetadata === undefined
          ? defaultContainerMetadata(options.logger)
          : options.containerMetadata,
    }
    if (this.options.batchBytes < MAX_RECORD_BYTES) {
      throw new RangeError(`batchBytes must be at least ${MAX_RECORD_BYTES}`)
    }
    this.logger = (options.logger ?? silentLogger()).child({ component: 'ebpf-source' })
  }

  /** Tells whether the kernel probe can run here, and why not. */
  static availability(): ProbeAvailability {
    return probeAvailability()
  }

  /**
   * Opens the probe, seeds state from /proc and yields events until `signal` aborts or the
   * source is closed. Throws PeregrineError PEREGRINE_PROBE_UNAVAILABLE when the probe cannot
   * run on this host, and SourceError when reading it fails.
   */
  async *events(signal: AbortSignal): AsyncIterable<SyscallEvent> {
    const probe = this.open()
    const processes = new ProcessTable({
      procReader: this.options.procReader,
      maxProcesses: this.options.maxProcesses,
      maxFdsPerProcess: this.options.maxFdsPerProcess,
      bootEpochNs: probe.bootEpochNs,
    })
    // The probe is attached before /proc is read, so no process can start in between unseen.
    const seeded = processes.seed()
    const users = new UserDirectory({
      refreshIntervalMs: this.options.userRefreshIntervalMs,
      maxRoots: this.options.maxUserRoots,
    })
    const builder = new EventBuilder(processes, users, this.options.procReader, {
      hostname: this.options.hostname,
      bootEpochNs: probe.bootEpochNs,
      maxAncestors: this.options.maxAncestors,
      userRefreshIntervalMs: this.options.userRefreshIntervalMs,
      containerMetadata: this.options.containerMetadata,
    })
    this.logger.info({ processes: seeded }, 'eBPF source started')

    const buffer = Buffer.alloc(this.options.batchBytes)
    const reader = new RecordReader(this.decodeProblems)
    const pending: SyscallEvent[] = []
    try {
      while (!signal.aborted && !this.isClosed) {
        const batch = probe.readBatch(buffer)
        if (batch.records === 0) {
          await waitOrAbort(this.options.pollIntervalMs, signal)
          continue
        }
        // Each record becomes an event, which is yielded before the next record is decoded, so
        // events die young instead of a whole batch of them reaching the old generation. Blobs
        // point into `buffer`, which stays untouched until the batch is done.
        reader.reset(buffer, batch.bytes)
        for (let record = reader.next(); record !== null; record = reader.next()) {
          this.handleRecord(record, processes, builder, pending)
          for (let i = 0; i < pending.length; i++) yield pending[i]
          pending.length = 0
        }
        // Yielding runs in microtasks only, so a ring that never empties would starve timers
        // and I/O of the whole process without this turn of the event loop.
        await nextTurn()
      }
    } finally {
      await this.close()
    }
  }

  stats(): SourceStats {
    const probe = this.finalProbeStats ?? this.probe?.stats()
    return {
      eventsRead: this.eventsRead,
      skipped: {
        ...this.skipped,
        read_failed: probe?.readFailed ?? 0,
        exit_without_enter: probe?.exitWithoutEnter ?? 0,
        compat_syscall: probe?.compatSkipped ?? 0,
      },
      dropped: {
        ring_full: probe?.ringFull ?? 0,
        stash_full: probe?.stashFull ?? 0,
        decode_truncated: this.decodeProblems.truncated,
        unknown_record: this.decodeProblems.unknownKind,
      },
      kernelRecords: probe?.emitted ?? 0,
    }
  }

  async close(): Promise<void> {
    this.isClosed = true
    if (this.probe !== null && this.finalProbeStats === null) {
      // The kernel counters vanish with the probe, so the last values are kept for stats().
      this.finalProbeStats = this.probe.stats()
      this.probe.close()
    }
  }

  private open(): Probe {
    if (this.probe !== null) throw new Error('EbpfSource.events() can run only once')
    this.probe = this.options.openProbe({
      ringBytes: this.options.ringBytes,
      syscalls: buildSyscallSpecs(this.options.syscalls),
      ignoredPid: process.pid,
      unifiedCgroup: isUnifiedCgroup(),
    })
    return this.probe
  }

  /** Applies one record to the state and appends the events it makes to `events`. */
  private handleRecord(
    record: ProbeRecord,
    processes: ProcessTable,
    builder: EventBuilder,
    events: SyscallEvent[],
  ): void {
    const process = this.applyRecord(record, processes)
    if (process !== null && process.container !== null) {
      this.announceContainer(record, process, builder, events)
    }
    if (record.kind !== 'syscall') return

    const event = builder.buildSyscall(record, this.eventsRead + 1)
    if (event === null) {
      this.skip('unknown_syscall')
      return
    }
    this.eventsRead++
    events.push(event)
  }

  /** Applies a record to the state; returns the process whose container may need announcing. */
  private applyRecord(record: ProbeRecord, processes: ProcessTable): ProcessEntry | null {
    switch (record.kind) {
      case 'fork':
        this.skip('fork')
        return processes.applyFork(record)
      case 'exec':
        this.skip('exec')
        return processes.applyExec(record).entry
      case 'exit':
        this.skip('exit')
        processes.applyExit(record)
        return null
      case 'cgroup':
        this.skip('cgroup')
        return processes.applyCgroup(record)
      case 'syscall':
        return processes.get(record.pid)
    }
  }

  private announceContainer(
    record: ProbeRecord,
    process: ProcessEntry,
    builder: EventBuilder,
    events: SyscallEvent[],
  ): void {
    const fullId = (process.container as NonNullable<ProcessEntry['container']>).fullId
    if (this.announcedContainers.has(fullId)) return
    if (this.announcedContainers.size >= this.options.maxContainers)
      this.announcedContainers.clear()
    this.announcedContainers.add(fullId)
    this.eventsRead++
    events.push(builder.buildContainerEvent(record, process, this.eventsRead))
  }

  private skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1
  }
}

/** NOTE: only Docker's API is queried; containers of CRI runtimes get no image or labels. */
function defaultContainerMetadata(logger: Logger | undefined): ContainerMetadataSource | null {
  return existsSync(DOCKER_SOCKET) ? new DockerMetadata({ logger }) : null
}

/** cgroup v2 alone is mounted when the root of /sys/fs/cgroup lists its controllers. */
function isUnifiedCgroup(): boolean {
  return existsSync('/sys/fs/cgroup/cgroup.controllers')
}

async function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal })
  } catch {
    // An abort ends the wait early; the read loop checks the signal next.
  }
}

function stripUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>
}
