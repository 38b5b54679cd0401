import type { AncestorInfo, ContainerInfo, SyscallEvent } from '../schemas/types.js'
import {
  mapContainerFields,
  mapFileDescriptor,
  mapProcess,
  mapUser,
  mergeContainer,
  parseContainerJson,
  readInt,
  readLong,
  readText,
  splitArgs,
  toInt64,
} from './sysdig-fields.js'
import type { SysdigRow } from './sysdig-fields.js'
import { splitEventArgs } from './sysdig-params.js'
import type { EventTable, ParamValue } from './sysdig-params.js'

export interface ConverterOptions {
  hostname: string
  eventTable: EventTable
  /** Ancestor levels requested from sysdig (proc.apid[1..N]). */
  maxAncestors: number
  /** Threads whose enter parameters are kept while their exit event is pending. */
  maxTrackedThreads: number
  /** Processes whose exe, exepath and arguments are kept to describe them as ancestors. */
  maxTrackedProcesses: number
}

/** Outcome of converting one sysdig row: an event, or the reason it was skipped or dropped. */
export type Conversion = { event: SyscallEvent } | { skipped: string } | { dropped: string }

/**
 * Meta events that have no exit counterpart but that rules read: a container's metadata, a
 * process's end and a signal's delivery. Falco 0.42 and later still passes these on, while other
 * enter events are gone.
 */
const META_TYPES = new Set(['container', 'procexit', 'signaldeliver'])

/** Events of the capture machinery or of retired metadata, not of a process. */
const INTERNAL_TYPES = new Set([
  'switch',
  'drop',
  'procinfo',
  'cpu_hotplug',
  'notification',
  'infra',
  'k8s',
  'mesos',
  'tracer',
  'page_fault',
  'pluginevent',
  'scapevent',
])

export const SKIP_REASONS = {
  enter: 'enter event',
  internal: 'internal event',
  unknownType: 'unknown event type',
} as const

/** Containers seen in `container` events, kept so later events of the container get labels. */
const MAX_TRACKED_CONTAINERS = 4096

interface ProcessDetails {
  exe: string | null
  exepath: string | null
  args: string[]
}

interface PendingEnter {
  type: string
  params: Map<string, ParamValue>
}

/**
 * Turns rows of `sysdig -j` output (fields of sysdig-fields.ts) into self-contained SyscallEvents.
 * It keeps three bounded tables across rows, and a full table evicts its oldest entry:
 *
 * - the parameters of each thread's last enter event, merged into the exit event that follows
 * - the exe, exepath and arguments of each process, to describe it when it is an ancestor
 * - the metadata of each container from its `container` event
 */
export class SysdigEventConverter {
  private readonly options: ConverterOptions
  private readonly pendingEnters = new Map<string, PendingEnter>()
  private readonly processes = new Map<string, ProcessDetails>()
  private readonly containers = new Map<string, ContainerInfo>()

  constructor(options: ConverterOptions) {
    this.options = options
  }

  convert(row: SysdigRow): Conversion {
    const type = readText(row, 'evt.type')
    const direction = readText(row, 'evt.dir')
    if (type === null || direction === null || type.startsWith('<') || /^NA\d*$/.test(type)) {
      return { skipped: SKIP_REASONS.unknownType }
    }
    if (INTERNAL_TYPES.has(type)) return { skipped: SKIP_REASONS.internal }

    const tsNs = readLong(row, 'evt.rawtime')
    const num = readLong(row, 'evt.num')
    if (tsNs === null || num === null) return { dropped: 'row without evt.num or evt.rawtime' }

    const params = splitEventArgs(this.options.eventTable, direction, type, readArgsText(row))
    const threadKey = String(readLong(row, 'thread.tid'))
    if (direction === '>' && !META_TYPES.has(type)) {
      this.rememberEnter(threadKey, type, params)
      return { skipped: SKIP_REASONS.enter }
    }
    if (direction === '<') this.mergeEnter(threadKey, type, params)

    return { event: this.buildEvent(row, type, BigInt(tsNs), num, params) }
  }

  private buildEvent(
    row: SysdigRow,
    type: string,
    tsNs: bigint,
    num: number | bigint,
    params: Map<string, ParamValue>,
  ): SyscallEvent {
    const proc = mapProcess(row, tsNs)
    const ancestors = this.mapAncestors(row)
    // Meta events such as `container` carry pid -1, which names no process.
    if (Number(proc.pid) > 0) {
      this.rememberProcess(String(proc.pid), {
        exe: proc.exe,
        exepath: proc.exepath,
        args: proc.args,
      })
    }

    const args: Record<string, string> = {}
    const rawArgs: Record<string, string> = {}
    for (const [name, value] of params) {
      args[name] = value.formatted
      rawArgs[name] = value.raw
    }

    return {
      ts_ns: toInt64(tsNs),
      hostname: this.options.hostname,
      num,
      type,
      source: 'syscall',
      cpu: readInt(row, 'evt.cpu'),
      res: readLong(row, 'evt.rawres'),
      args,
      raw_args: rawArgs,
      proc,
      ancestors,
      user: mapUser(row),
      fd: mapFileDescriptor(row),
      container: this.mapContainer(row, type, params),
    }
  }

  private mapAncestors(row: SysdigRow): AncestorInfo[] {
    const ancestors: AncestorInfo[] = []
    for (let level = 1; level <= this.options.maxAncestors; level++) {
      const pid = readLong(row, `proc.apid[${level}]`)
      const name = readText(row, `proc.aname[${level}]`)
      if (pid === null || name === null) break

      const details = this.processes.get(String(pid))
      const args =
        details?.args ?? (level === 1 ? parentArgs(readText(row, 'proc.pcmdline'), name) : [])
      ancestors.push({
        pid,
        name,
        exe: details?.exe ?? null,
        exepath: details?.exepath ?? null,
        args,
      })
    }
    return ancestors
  }

  private mapContainer(
    row: SysdigRow,
    type: string,
    params: Map<string, ParamValue>,
  ): ContainerInfo | null {
    const fields = mapContainerFields(row)
    if (type === 'container') {
      const metadata = parseContainerJson(params.get('json')?.formatted ?? '')
      if (metadata !== null) {
        remember(this.containers, metadata.id, metadata, MAX_TRACKED_CONTAINERS)
        return fields === null ? metadata : mergeContainer(fields, metadata)
      }
    }
    if (fields === null) return null
    const metadata = this.containers.get(fields.id)
    return metadata === undefined ? fields : mergeContainer(fields, metadata)
  }

  private rememberEnter(threadKey: string, type: string, params: Map<string, ParamValue>): void {
    if (params.size === 0) {
      this.pendingEnters.delete(threadKey)
      return
    }
    remember(this.pendingEnters, threadKey, { type, params }, this.options.maxTrackedThreads)
  }

  /** Adds the parameters of the thread's enter event that the exit event lacks. */
  private mergeEnter(threadKey: string, type: string, params: Map<string, ParamValue>): void {
    const pending = this.pendingEnters.get(threadKey)
    if (pending === undefined) return
    this.pendingEnters.delete(threadKey)
    if (pending.type !== type) return
    for (const [name, value] of pending.params) {
      if (!params.has(name)) params.set(name, value)
    }
  }

  private rememberProcess(pidKey: string, details: ProcessDetails): void {
    remember(this.processes, pidKey, details, this.options.maxTrackedProcesses)
  }
}

/** Sets `key` as the newest entry of `table` and evicts the oldest one past `maxEntries`. */
function remember<T>(table: Map<string, T>, key: string, value: T, maxEntries: number): void {
  table.delete(key)
  table.set(key, value)
  if (table.size > maxEntries) {
    const oldest = table.keys().next().value
    if (oldest !== undefined) table.delete(oldest)
  }
}

/** proc.pcmdline is the parent's name, a space and its arguments. */
function parentArgs(commandLine: string | null, parentName: string): string[] {
  if (commandLine === null || !commandLine.startsWith(parentName)) return []
  return splitArgs(commandLine.slice(parentName.length))
}

function readArgsText(row: SysdigRow): string {
  const value = row['evt.args']
  return typeof value === 'string' ? value : ''
}
