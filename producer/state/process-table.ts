import { posix } from 'node:path'

import { containerFromCgroupLines, containerFromCgroupPath } from './container-id.js'
import { FdTable } from './fd-table.js'
import type { CgroupRecord, ExecRecord, ExitRecord, ForkRecord } from '../ebpf/record-decoder.js'
import type { ContainerRef } from './container-id.js'
import type { ProcReader, ProcSnapshot } from './proc-reader.js'

/** State of one process (thread group) as the producer tracks it. */
export interface ProcessEntry {
  pid: number
  ppid: number
  vpid: number | null
  /** Command name, at most 15 characters (comm). */
  name: string
  /** argv[0]. */
  exe: string | null
  exepath: string | null
  args: string[]
  cwd: string | null
  env: string[]
  tty: number | null
  sid: number | null
  pgid: number | null
  loginUid: number | null
  uid: number
  gid: number
  /** Start time, nanoseconds since the epoch. */
  startNs: bigint | null
  capPermitted: bigint | null
  capEffective: bigint | null
  capInheritable: bigint | null
  exeIno: number | null
  exeMode: number | null
  exeUid: number | null
  exeGid: number | null
  isExeFromMemfd: boolean | null
  container: ContainerRef | null
  fds: FdTable
  /** True when built from nothing because /proc had no entry: fields then read as unknown. */
  isPlaceholder: boolean
  /** Bumped on every change of the fields above, so derived event parts can be cached. */
  revision: number
}

export interface ProcessTableOptions {
  procReader: ProcReader
  /** Processes kept at once; past that the oldest entry goes, as for a missed exit. */
  maxProcesses: number
  maxFdsPerProcess: number
  /** Wall-clock nanoseconds at boot, to turn boot-clock start times into epoch times. */
  bootEpochNs: bigint
}

const UNKNOWN_ID = 4294967295
const UNKNOWN_NAME = '<NA>'

/**
 * The process tree of the host, seeded from /proc and kept current by the probe's fork, exec,
 * exit and cgroup records. Bounded by `maxProcesses`; a process the table has not seen is read
 * from /proc on first use.
 */
export class ProcessTable {
  private readonly processes = new Map<number, ProcessEntry>()

  constructor(private readonly options: ProcessTableOptions) {}

  get size(): number {
    return this.processes.size
  }

  /** Reads every process in /proc. Returns how many were added. */
  seed(): number {
    let added = 0
    for (const pid of this.options.procReader.listPids()) {
      if (this.processes.has(pid)) continue
      const snapshot = this.options.procReader.readProcess(pid)
      if (snapshot === null) continue
      this.insert(this.fromSnapshot(snapshot))
      added++
    }
    return added
  }

  /** Returns the process, reading it from /proc when the table has not seen it. */
  get(pid: number): ProcessEntry {
    const known = this.processes.get(pid)
    if (known !== undefined) return known

    const snapshot = this.options.procReader.readProcess(pid)
    const entry = snapshot === null ? this.placeholder(pid) : this.fromSnapshot(snapshot)
    this.insert(entry)
    return entry
  }

  peek(pid: number): ProcessEntry | undefined {
    return this.processes.get(pid)
  }

  applyFork(record: ForkRecord): ProcessEntry | null {
    if (record.isThread) return null
    const parent = this.get(record.pid)
    const child: ProcessEntry = {
      ...parent,
      pid: record.childPid,
      ppid: record.childPpid,
      vpid: record.childVpid,
      startNs: this.options.bootEpochNs + record.childStartNs,
      fds: parent.fds.clone(),
      isPlaceholder: parent.isPlaceholder,
      revision: 0,
    }
    this.insert(child)
    return child
  }

  /** Applies an exec; returns the process and whether its container changed. */
  applyExec(record: ExecRecord): { entry: ProcessEntry; isNewContainer: boolean } {
    const entry = this.get(record.pid)
    const previousContainer = entry.container?.fullId ?? null

    entry.ppid = record.ppid
    entry.vpid = record.vpid
    entry.name = record.comm
    entry.exe = record.argv[0] ?? null
    entry.args = record.argv.slice(1)
    entry.env = record.env
    entry.exepath = resolveExePath(record.filename, entry.cwd, () =>
      this.options.procReader.readProcess(record.pid),
    )
    entry.tty = record.tty
    entry.sid = record.sid
    entry.pgid = record.pgid
    entry.loginUid = record.loginUid
    entry.uid = record.uid
    entry.gid = record.gid
    entry.startNs = this.options.bootEpochNs + record.startNs
    entry.capPermitted = record.capPermitted
    entry.capEffective = record.capEffective
    entry.capInheritable = record.capInheritable
    entry.exeIno = record.exeIno
    entry.exeMode = record.exeMode
    entry.exeUid = record.exeUid
    entry.exeGid = record.exeGid
    entry.isExeFromMemfd = record.isExeFromMemfd
    entry.isPlaceholder = false
    entry.revision++
    if (record.cgroup !== null) entry.container = containerFromCgroupPath(record.cgroup)

    const container = entry.container?.fullId ?? null
    return { entry, isNewContainer: container !== null && container !== previousContainer }
  }

  applyExit(record: ExitRecord): void {
    if (record.isGroupDead) this.processes.delete(record.pid)
  }

  /**
   * Applies a cgroup move; returns the process when it entered a container it was not in.
   * NOTE: a move out of a container's cgroup keeps the container, because processes rarely
   * leave one and the other v1 hierarchies' moves carry no container path.
   */
  applyCgroup(record: CgroupRecord): ProcessEntry | null {
    const container = containerFromCgroupPath(record.path)
    if (container === null) return null
    const entry = this.get(record.targetPid)
    if (entry.container?.fullId === container.fullId) return null
    entry.container = container
    entry.revision++
    return entry
  }

  /** Parent first, at most `maxDepth` entries; stops at a loop or an unknown parent. */
  ancestors(entry: ProcessEntry, maxDepth: number): ProcessEntry[] {
    const chain: ProcessEntry[] = []
    let current = entry
    while (chain.length < maxDepth && current.ppid > 0 && current.ppid !== current.pid) {
      const parent = this.processes.get(current.ppid) ?? this.get(current.ppid)
      if (parent.isPlaceholder || chain.includes(parent)) break
      chain.push(parent)
      current = parent
    }
    return chain
  }

  private insert(entry: ProcessEntry): void {
    this.processes.delete(entry.pid)
    if (this.processes.size >= this.options.maxProcesses) {
      const oldest = this.processes.keys().next().value
      if (oldest !== undefined) this.processes.delete(oldest)
    }
    this.processes.set(entry.pid, entry)
  }

  private fromSnapshot(snapshot: ProcSnapshot): ProcessEntry {
    return {
      pid: snapshot.pid,
      ppid: snapshot.ppid,
      vpid: snapshot.vpid,
      name: snapshot.comm,
      exe: snapshot.argv[0] ?? null,
      exepath: snapshot.exePath,
      args: snapshot.argv.slice(1),
      cwd: snapshot.cwd,
      env: snapshot.env,
      tty: snapshot.tty,
      sid: snapshot.sid,
      pgid: snapshot.pgid,
      loginUid: snapshot.loginUid,
      uid: snapshot.uid,
      gid: snapshot.gid,
      startNs: this.options.bootEpochNs + snapshot.startBootNs,
      capPermitted: snapshot.capPermitted,
      capEffective: snapshot.capEffective,
      capInheritable: snapshot.capInheritable,
      exeIno: snapshot.exe?.ino ?? null,
      exeMode: snapshot.exe?.mode ?? null,
      exeUid: snapshot.exe?.uid ?? null,
      exeGid: snapshot.exe?.gid ?? null,
      isExeFromMemfd: snapshot.exePath === null ? null : snapshot.exePath.startsWith('/memfd:'),
      container: containerFromCgroupLines(snapshot.cgroups),
      fds: new FdTable(this.options.maxFdsPerProcess),
      isPlaceholder: false,
      revision: 0,
    }
  }

  private placeholder(pid: number): ProcessEntry {
    return {
      ...this.fromSnapshot({
        pid,
        ppid: 0,
        comm: UNKNOWN_NAME,
        argv: [],
        env: [],
        exePath: null,
        cwd: null,
        uid: UNKNOWN_ID,
        gid: UNKNOWN_ID,
        loginUid: null,
        sid: 0,
        pgid: 0,
        tty: 0,
        vpid: null,
        startBootNs: 0n,
        capPermitted: null,
        capEffective: null,
        capInheritable: null,
        exe: null,
        cgroups: [],
      }),
      tty: null,
      sid: null,
      pgid: null,
      startNs: null,
      isPlaceholder: true,
    }
  }
}

/**
 * Resolves the path execve received into an absolute one: as given when absolute, against the
 * working folder when relative, and through /proc/<pid>/exe for execveat's /dev/fd/N form.
 */
function resolveExePath(
  filename: string,
  cwd: string | null,
  readProcess: () => ProcSnapshot | null,
): string | null {
  if (filename.startsWith('/dev/fd/') || filename === '') return readProcess()?.exePath ?? null
  if (filename.startsWith('/')) return posix.normalize(filename)
  if (cwd === null) return filename
  return posix.resolve(cwd, filename)
}
