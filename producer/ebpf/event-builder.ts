import { applySyscallEffects, parseFileInfo } from './fd-effects.js'
import { formatSyscallArgs } from './syscall-args.js'
import { SYSCALLS_BY_NR } from './syscall-table.js'
import type {
  AncestorInfo,
  ContainerInfo,
  ProcessInfo,
  SyscallEvent,
  UserInfo,
} from '../../schemas/types.js'
import type { ContainerMetadata, ContainerMetadataSource } from '../state/docker-metadata.js'
import type { ProcReader } from '../state/proc-reader.js'
import type { ProcessEntry, ProcessTable } from '../state/process-table.js'
import type { UserDirectory } from '../state/user-directory.js'
import type { RecordHeader, SyscallRecord } from './record-decoder.js'

export interface EventBuilderOptions {
  hostname: string
  bootEpochNs: bigint
  /** Ancestors listed in each event, parent first. */
  maxAncestors: number
  /** How long user names in cached event parts are reused, as for the passwd files. */
  userRefreshIntervalMs: number
  /** A container runtime's API for name, image, labels and the like, none when unset. */
  containerMetadata?: ContainerMetadataSource | null
}

interface DerivedParts {
  revision: number
  tid: number
  uid: number
  gid: number
  ancestors: ProcessEntry[]
  ancestorRevisions: number[]
  ancestorInfos: AncestorInfo[]
  proc: ProcessInfo
  user: UserInfo
  /** User names may change when the passwd files are read again, so parts expire. */
  expiresAtMs: number
}

/** Capability names by bit number (linux/capability.h, up to CAP_CHECKPOINT_RESTORE). */
const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
]

/** Shells whose oldest instance among the ancestors is proc.loginshellid. */
const SHELLS = new Set(['bash', 'sh', 'zsh', 'ksh', 'csh', 'tcsh', 'dash', 'ash', 'fish'])
const NO_LOGINUID = -1
/** Container records kept for reuse between events; the cache is rebuilt when it fills. */
const MAX_CONTAINERS = 4096
const WRITE_BITS = { owner: 0o200, group: 0o020, other: 0o002 }
/** Container fields while no runtime API has described the container. */
const NO_METADATA: ContainerMetadata = {
  name: null,
  image: null,
  image_id: null,
  image_repository: null,
  image_tag: null,
  image_digest: null,
  privileged: null,
  ip: null,
  labels: {},
  mounts: [],
}

/**
 * Turns syscall records into self-contained SyscallEvents: it formats the arguments, applies the
 * call's effect on descriptors and working folder, and fills process, ancestors, user, fd and
 * container from the producer's state.
 */
export class EventBuilder {
  private readonly containers = new Map<string, ContainerInfo>()
  /** Containers whose cached record already carries the runtime's metadata. */
  private readonly containersWithMetadata = new Set<string>()
  private readonly derived = new WeakMap<ProcessEntry, DerivedParts>()

  constructor(
    private readonly processes: ProcessTable,
    private readonly users: UserDirectory,
    private readonly procReader: ProcReader,
    private readonly options: EventBuilderOptions,
  ) {}

  /** Builds the event of a syscall record; returns null for a syscall number not in the table. */
  buildSyscall(record: SyscallRecord, num: number): SyscallEvent | null {
    const definition = SYSCALLS_BY_NR.get(record.nr)
    if (definition === undefined) return null

    const process = this.processes.get(record.pid)
    const root = this.rootOf(process)
    const formatted = formatSyscallArgs(definition, record, {
      cwd: process.cwd,
      fdPath: (fd) => process.fds.get(fd)?.name ?? this.procReader.readFdTarget(record.pid, fd),
      userName: (uid) => this.users.user(root.path, uid, root.key)?.name ?? null,
      groupName: (gid) => this.users.group(root.path, gid, root.key),
      isCreated: parseFileInfo(record.blobs[6])?.isCreated ?? false,
    })
    if (definition.name.startsWith('execve') && record.res === 0 && process.exepath !== null) {
      formatted.args.filename = formatted.rawArgs.filename = process.exepath
    }
    const fd = applySyscallEffects(
      definition,
      record,
      formatted,
      process,
      this.procReader.readFdTarget,
    )

    return this.event(record, process, num, definition.name, {
      res: record.res,
      args: formatted.args,
      raw_args: formatted.rawArgs,
      fd,
    })
  }

  /**
   * Builds the `container` meta event that announces a container the first time one of its
   * processes is seen, as capture files carry one before the container's first syscall.
   */
  buildContainerEvent(header: RecordHeader, process: ProcessEntry, num: number): SyscallEvent {
    const container = this.containerInfo(process) as ContainerInfo
    return this.event(header, process, num, 'container', {
      res: null,
      args: { id: container.id, full_id: container.full_id ?? '', type: container.type ?? '' },
      raw_args: {},
      fd: null,
    })
  }

  // Every field is set in one literal, in schema order, so all events share one object shape.
  private event(
    header: RecordHeader,
    process: ProcessEntry,
    num: number,
    type: string,
    result: Pick<SyscallEvent, 'res' | 'args' | 'raw_args' | 'fd'>,
  ): SyscallEvent {
    const derived = this.derivedParts(header, process)
    return {
      ts_ns: this.options.bootEpochNs + header.tsNs,
      hostname: this.options.hostname,
      num,
      type,
      source: 'syscall',
      cpu: header.cpu,
      res: result.res,
      args: result.args,
      raw_args: result.raw_args,
      proc: derived.proc,
      ancestors: derived.ancestorInfos,
      user: derived.user,
      fd: result.fd,
      container: this.containerInfo(process),
    }
  }

  /**
   * Returns the process, ancestor and user parts of an event, reused while neither the process,
   * its thread, its ids nor an ancestor changed, for at most the user refresh interval. Events
   * share these objects and must not modify them.
   */
  private derivedParts(header: RecordHeader, process: ProcessEntry): DerivedParts {
    const cached = this.derived.get(process)
    const nowMs = Date.now()
    const isFresh =
      cached !== undefined &&
      cached.expiresAtMs > nowMs &&
      cached.revision === process.revision &&
      cached.tid === header.tid &&
      cached.uid === header.uid &&
      cached.gid === header.gid &&
      cached.ancestors.every(
        (ancestor, i) =>
          ancestor.revision === cached.ancestorRevisions[i] &&
          this.processes.peek(ancestor.pid) === ancestor,
      )
    if (isFresh) return cached

    const ancestors = this.processes.ancestors(process, this.options.maxAncestors)
    const parts: DerivedParts = {
      revision: process.revision,
      tid: header.tid,
      uid: header.uid,
      gid: header.gid,
      ancestors,
      ancestorRevisions: ancestors.map((ancestor) => ancestor.revision),
      ancestorInfos: ancestors.map(ancestorInfo),
      proc: this.processInfo(header, process, ancestors),
      user: this.userInfo(header, process),
      expiresAtMs: nowMs + this.options.userRefreshIntervalMs,
    }
    this.derived.set(process, parts)
    return parts
  }

  private processInfo(
    header: RecordHeader,
    process: ProcessEntry,
    ancestors: ProcessEntry[],
  ): ProcessInfo {
    const isLeader = header.tid === process.pid
    return {
      pid: process.pid,
      tid: header.tid,
      vpid: process.vpid,
      vtid: isLeader ? process.vpid : null,
      ppid: process.ppid,
      name: process.name,
      exe: process.exe,
      exepath: process.exepath,
      args: process.args,
      cwd: process.cwd,
      tty: process.tty,
      sid: process.sid,
      sname: process.sid === null ? null : (this.processes.peek(process.sid)?.name ?? null),
      // NOTE: the probe reads the process group id in the initial pid namespace, so vpgid is
      // off for processes in a container that has its own pid namespace.
      vpgid: process.pgid,
      loginshell_id: loginShellId(process, ancestors),
      env: process.env,
      is_exe_writable: isExeWritable(process, header.uid, header.gid),
      is_exe_upper_layer: null,
      is_exe_from_memfd: process.isExeFromMemfd,
      exe_ino: process.exeIno,
      start_ts_ns: process.startNs,
      cap_permitted: capabilityNames(process.capPermitted),
      cap_effective: capabilityNames(process.capEffective),
      cap_inheritable: capabilityNames(process.capInheritable),
    }
  }

  private userInfo(header: RecordHeader, process: ProcessEntry): UserInfo {
    const root = this.rootOf(process)
    const user = this.users.user(root.path, header.uid, root.key)
    const loginUser = process.loginUid === null ? null : this.users.user('/', process.loginUid)
    return {
      uid: header.uid,
      name: user?.name ?? null,
      homedir: user?.homedir ?? null,
      shell: user?.shell ?? null,
      loginuid: process.loginUid ?? NO_LOGINUID,
      loginname: loginUser?.name ?? null,
      gid: header.gid,
      group_name: this.users.group(root.path, header.gid, root.key),
    }
  }

  private containerInfo(process: ProcessEntry): ContainerInfo | null {
    const ref = process.container
    if (ref === null) return null
    const cached = this.containers.get(ref.fullId)
    if (cached !== undefined && this.containersWithMetadata.has(ref.fullId)) return cached

    // The runtime's API responds in the background, so a container's first events may go out
    // without the fields it adds and later ones carry them.
    const metadata = this.options.containerMetadata?.lookup(ref.type, ref.fullId)
    if (cached !== undefined && metadata === undefined) return cached
    const info: ContainerInfo = {
      id: ref.id,
      full_id: ref.fullId,
      type: ref.type,
      ...(metadata ?? NO_METADATA),
    }
    if (this.containers.size >= MAX_CONTAINERS) {
      this.containers.clear()
      this.containersWithMetadata.clear()
    }
    this.containers.set(ref.fullId, info)
    if (metadata !== undefined) this.containersWithMetadata.add(ref.fullId)
    return info
  }

  /** Users of a container live in its own /etc/passwd, read through one of its processes. */
  private rootOf(process: ProcessEntry): { path: string; key: string } {
    if (process.container === null) return { path: '/', key: '/' }
    return { path: this.procReader.rootPath(process.pid), key: process.container.fullId }
  }
}

function ancestorInfo(process: ProcessEntry): AncestorInfo {
  return {
    pid: process.pid,
    name: process.name,
    exe: process.exe,
    exepath: process.exepath,
    args: process.args,
  }
}

function loginShellId(process: ProcessEntry, ancestors: ProcessEntry[]): number | null {
  let shell: number | null = null
  for (const candidate of [process, ...ancestors]) {
    if (SHELLS.has(candidate.name)) shell = candidate.pid
  }
  return shell
}

function isExeWritable(process: ProcessEntry, uid: number, gid: number): boolean | null {
  if (process.exeMode === null) return null
  if (uid === 0) return true
  if (process.exeUid === uid) return (process.exeMode & WRITE_BITS.owner) !== 0
  if (process.exeGid === gid) return (process.exeMode & WRITE_BITS.group) !== 0
  return (process.exeMode & WRITE_BITS.other) !== 0
}

/** Rendered capability sets; a host has few distinct ones, and BigInt loops are slow per event. */
const capabilityCache = new Map<bigint, string>()
const MAX_CACHED_CAPABILITY_SETS = 1024

function capabilityNames(mask: bigint | null): string | null {
  if (mask === null) return null
  const cached = capabilityCache.get(mask)
  if (cached !== undefined) return cached

  const names: string[] = []
  CAPABILITIES.forEach((name, bit) => {
    if ((mask >> BigInt(bit)) & 1n) names.push(name)
  })
  const text = names.join(' ')
  if (capabilityCache.size >= MAX_CACHED_CAPABILITY_SETS) capabilityCache.clear()
  capabilityCache.set(mask, text)
  return text
}
