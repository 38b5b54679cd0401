/** Common fields of every probe record. */
export interface RecordHeader {
  /** CLOCK_BOOTTIME nanoseconds. */
  tsNs: bigint
  cpu: number
  /** Thread group id, which user space calls the process id. */
  pid: number
  tid: number
  /** Effective user and group ids. */
  uid: number
  gid: number
}

export interface SyscallRecord extends RecordHeader {
  kind: 'syscall'
  nr: number
  res: number
  /** Register values; numbers beyond 2^53 (kernel pointers) lose their low bits. */
  args: number[]
  /** Blob of each argument and, at index 6, of the return value; null when absent. */
  blobs: Array<Uint8Array | null>
}

export interface ForkRecord extends RecordHeader {
  kind: 'fork'
  childPid: number
  childTid: number
  childPpid: number
  isThread: boolean
  childStartNs: bigint
  childVpid: number
  childVtid: number
}

export interface ExecRecord extends RecordHeader {
  kind: 'exec'
  oldTid: number
  ppid: number
  /** Audit login uid, or null when unset. */
  loginUid: number | null
  sid: number
  pgid: number
  tty: number
  vpid: number
  exeDev: number
  startNs: bigint
  capPermitted: bigint
  capEffective: bigint
  capInheritable: bigint
  exeIno: number
  exeUid: number
  exeGid: number
  exeMode: number
  isExeFromMemfd: boolean
  comm: string
  filename: string
  argv: string[]
  env: string[]
  /** Path in the pids (cgroup v1) or unified (v2) hierarchy, or null when not read. */
  cgroup: string | null
}

export interface ExitRecord extends RecordHeader {
  kind: 'exit'
  exitCode: number
  isGroupDead: boolean
}

export interface CgroupRecord extends RecordHeader {
  kind: 'cgroup'
  targetPid: number
  targetTid: number
  hierarchyId: number
  isThreadGroup: boolean
  path: string
}

export type ProbeRecord = SyscallRecord | ForkRecord | ExecRecord | ExitRecord | CgroupRecord

/** Records the decoder could not read, by reason. */
export interface DecodeProblems {
  unknownKind: number
  truncated: number
}

const HEADER_BYTES = 32
const SYSCALL_FIXED_BYTES = 104
const FORK_BYTES = 64
const EXEC_FIXED_BYTES = 144
const EXIT_BYTES = 40
const CGROUP_FIXED_BYTES = 48
const COMM_BYTES = 16
const BLOB_COUNT = 7
const NO_LOGINUID = 0xffffffff
const EXE_FROM_MEMFD = 0x1
const TASK_FLAG = 0x1
const KIND_SYSCALL = 1
const KIND_FORK = 2
const KIND_EXEC = 3
const KIND_EXIT = 4
const KIND_CGROUP = 5

/**
 * Decodes the records of one batch the probe wrote into `buffer`. Blobs are views into `buffer`,
 * valid until the buffer is filled again; strings are decoded copies.
 *
 * Layout (native/src/record.h; little-endian, records back to back, each `size` bytes long):
 *
 *   header, 32 bytes, first in every record
 *     0 u64 ts_ns     CLOCK_BOOTTIME nanoseconds
 *     8 u32 size      whole record in bytes
 *    12 u16 kind      1 syscall, 2 fork, 3 exec, 4 exit, 5 cgroup
 *    14 u16 cpu
 *    16 u32 pid       thread group id
 *    20 u32 tid
 *    24 u32 uid       effective uid
 *    28 u32 gid       effective gid
 *   syscall (kind 1), 104 bytes, then the blobs of arguments 0-5 and of res, in that order
 *    32 u16 nr        x86_64 syscall number
 *    34 u16[7] blob_len  bytes of each blob, 0 when absent
 *    48 s64 res
 *    56 u64[6] args   register values at entry
 *   fork (kind 2), 64 bytes; the header is the parent's
 *    32 u32 child_pid, 36 u32 child_tid, 40 u32 child_ppid, 44 u32 flags (1: thread)
 *    48 u64 child_start_ns, 56 u32 child_vpid, 60 u32 child_vtid
 *   exec (kind 3), 144 bytes, then filename, argv, env (NUL-separated) and cgroup path
 *    32 u32 old_tid, 36 u32 ppid, 40 u32 loginuid (0xffffffff unset), 44 u32 sid, 48 u32 pgid
 *    52 u32 tty, 56 u32 vpid, 60 u32 exe_dev, 64 u64 start_ns, 72 u64 cap_permitted
 *    80 u64 cap_effective, 88 u64 cap_inheritable, 96 u64 exe_ino, 104 u32 exe_uid
 *   108 u32 exe_gid, 112 u16 exe_mode, 114 u16 exe_flags (1: memfd), 116 u16 filename_len
 *   118 u16 argv_len, 120 u16 env_len, 122 u16 cgroup_len, 124 u32 reserved, 128 char[16] comm
 *   exit (kind 4), 40 bytes
 *    32 s32 exit_code, 36 u32 flags (1: last thread of the process)
 *   cgroup (kind 5), 48 bytes, then the path
 *    32 u32 target_pid, 36 u32 target_tid, 40 u32 hierarchy_id, 44 u16 path_len, 46 u16 flags
 */
export function decodeRecords(
  buffer: Uint8Array,
  bytes: number,
  problems: DecodeProblems = { unknownKind: 0, truncated: 0 },
): ProbeRecord[] {
  const reader = new RecordReader(problems)
  reader.reset(buffer, bytes)
  const records: ProbeRecord[] = []
  for (let record = reader.next(); record !== null; record = reader.next()) records.push(record)
  return records
}

/**
 * Decodes the records of one batch one at a time, so a consumer can turn each into an event
 * before the next is decoded and short-lived objects stay short-lived. Records are valid as
 * decodeRecords describes; `reset` starts on the next batch.
 */
export class RecordReader {
  private buffer: Uint8Array = new Uint8Array(0)
  private view = new DataView(this.buffer.buffer)
  private bytes = 0
  private offset = 0

  constructor(private readonly problems: DecodeProblems = { unknownKind: 0, truncated: 0 }) {}

  reset(buffer: Uint8Array, bytes: number): void {
    this.buffer = buffer
    this.view = new DataView(buffer.buffer, buffer.byteOffset, bytes)
    this.bytes = bytes
    this.offset = 0
  }

  /** Returns the next record of the batch, or null at its end; unreadable records are counted. */
  next(): ProbeRecord | null {
    while (this.offset + HEADER_BYTES <= this.bytes) {
      const offset = this.offset
      const size = this.view.getUint32(offset + 8, true)
      if (size < HEADER_BYTES || offset + size > this.bytes) {
        this.problems.truncated++
        this.offset = this.bytes
        return null
      }
      this.offset = offset + size
      const record = decodeRecord(this.buffer, this.view, offset, size)
      if (record !== null) return record
      this.problems.unknownKind++
    }
    return null
  }
}

function decodeRecord(
  buffer: Uint8Array,
  view: DataView,
  offset: number,
  size: number,
): ProbeRecord | null {
  const kind = view.getUint16(offset + 12, true)
  if (kind === KIND_SYSCALL && size >= SYSCALL_FIXED_BYTES) {
    return decodeSyscall(buffer, view, offset, size)
  }
  if (kind === KIND_FORK && size >= FORK_BYTES) return decodeFork(view, offset)
  if (kind === KIND_EXEC && size >= EXEC_FIXED_BYTES) return decodeExec(buffer, view, offset, size)
  if (kind === KIND_EXIT && size >= EXIT_BYTES) return decodeExit(view, offset)
  if (kind === KIND_CGROUP && size >= CGROUP_FIXED_BYTES) {
    return decodeCgroup(buffer, view, offset, size)
  }
  return null
}

function decodeHeader(view: DataView, offset: number): RecordHeader {
  return {
    tsNs: view.getBigUint64(offset, true),
    cpu: view.getUint16(offset + 14, true),
    pid: view.getUint32(offset + 16, true),
    tid: view.getUint32(offset + 20, true),
    uid: view.getUint32(offset + 24, true),
    gid: view.getUint32(offset + 28, true),
  }
}

function decodeSyscall(
  buffer: Uint8Array,
  view: DataView,
  offset: number,
  size: number,
): SyscallRecord {
  const args: number[] = []
  for (let i = 0; i < 6; i++) args.push(readInt64(view, offset + 56 + i * 8))

  const blobs: Array<Uint8Array | null> = []
  let blobOffset = offset + SYSCALL_FIXED_BYTES
  const end = offset + size
  for (let i = 0; i < BLOB_COUNT; i++) {
    const length = view.getUint16(offset + 34 + i * 2, true)
    if (length === 0 || blobOffset + length > end) {
      blobs.push(null)
      continue
    }
    blobs.push(buffer.subarray(blobOffset, blobOffset + length))
    blobOffset += length
  }

  // The header fields are read here rather than spread from decodeHeader: this runs once per
  // syscall, and the spread's temporary object showed up in profiles.
  return {
    kind: 'syscall',
    tsNs: view.getBigUint64(offset, true),
    cpu: view.getUint16(offset + 14, true),
    pid: view.getUint32(offset + 16, true),
    tid: view.getUint32(offset + 20, true),
    uid: view.getUint32(offset + 24, true),
    gid: view.getUint32(offset + 28, true),
    nr: view.getUint16(offset + 32, true),
    res: readInt64(view, offset + 48),
    args,
    blobs,
  }
}

function decodeFork(view: DataView, offset: number): ForkRecord {
  return {
    kind: 'fork',
    ...decodeHeader(view, offset),
    childPid: view.getUint32(offset + 32, true),
    childTid: view.getUint32(offset + 36, true),
    childPpid: view.getUint32(offset + 40, true),
    isThread: (view.getUint32(offset + 44, true) & TASK_FLAG) !== 0,
    childStartNs: view.getBigUint64(offset + 48, true),
    childVpid: view.getUint32(offset + 56, true),
    childVtid: view.getUint32(offset + 60, true),
  }
}

function decodeExec(buffer: Uint8Array, view: DataView, offset: number, size: number): ExecRecord {
  const lengths = [116, 118, 120, 122].map((at) => view.getUint16(offset + at, true))
  const [filename, argv, env, cgroup] = sliceBlobs(
    buffer,
    offset + EXEC_FIXED_BYTES,
    offset + size,
    lengths,
  )
  const loginUid = view.getUint32(offset + 40, true)

  return {
    kind: 'exec',
    ...decodeHeader(view, offset),
    oldTid: view.getUint32(offset + 32, true),
    ppid: view.getUint32(offset + 36, true),
    loginUid: loginUid === NO_LOGINUID ? null : loginUid,
    sid: view.getUint32(offset + 44, true),
    pgid: view.getUint32(offset + 48, true),
    tty: view.getUint32(offset + 52, true),
    vpid: view.getUint32(offset + 56, true),
    exeDev: view.getUint32(offset + 60, true),
    startNs: view.getBigUint64(offset + 64, true),
    capPermitted: view.getBigUint64(offset + 72, true),
    capEffective: view.getBigUint64(offset + 80, true),
    capInheritable: view.getBigUint64(offset + 88, true),
    exeIno: readInt64(view, offset + 96),
    exeUid: view.getUint32(offset + 104, true),
    exeGid: view.getUint32(offset + 108, true),
    exeMode: view.getUint16(offset + 112, true),
    isExeFromMemfd: (view.getUint16(offset + 114, true) & EXE_FROM_MEMFD) !== 0,
    comm: decodeCString(buffer.subarray(offset + 128, offset + 128 + COMM_BYTES)),
    filename: filename === null ? '' : decodeCString(filename),
    argv: argv === null ? [] : splitNulSeparated(argv),
    env: env === null ? [] : splitNulSeparated(env),
    cgroup: cgroup === null ? null : decodeCString(cgroup),
  }
}

function decodeExit(view: DataView, offset: number): ExitRecord {
  return {
    kind: 'exit',
    ...decodeHeader(view, offset),
    exitCode: view.getInt32(offset + 32, true),
    isGroupDead: (view.getUint32(offset + 36, true) & TASK_FLAG) !== 0,
  }
}

function decodeCgroup(
  buffer: Uint8Array,
  view: DataView,
  offset: number,
  size: number,
): CgroupRecord {
  const length = Math.min(view.getUint16(offset + 44, true), size - CGROUP_FIXED_BYTES)
  const start = offset + CGROUP_FIXED_BYTES
  return {
    kind: 'cgroup',
    ...decodeHeader(view, offset),
    targetPid: view.getUint32(offset + 32, true),
    targetTid: view.getUint32(offset + 36, true),
    hierarchyId: view.getUint32(offset + 40, true),
    isThreadGroup: (view.getUint16(offset + 46, true) & TASK_FLAG) !== 0,
    path: decodeCString(buffer.subarray(start, start + length)),
  }
}

function sliceBlobs(
  buffer: Uint8Array,
  start: number,
  end: number,
  lengths: number[],
): Array<Uint8Array | null> {
  const blobs: Array<Uint8Array | null> = []
  let at = start
  for (const length of lengths) {
    if (length === 0 || at + length > end) {
      blobs.push(null)
      continue
    }
    blobs.push(buffer.subarray(at, at + length))
    at += length
  }
  return blobs
}

/** Reads a signed 64-bit value as a number: exact for |value| < 2^53, which covers fds and ids. */
function readInt64(view: DataView, offset: number): number {
  const low = view.getUint32(offset, true)
  const high = view.getInt32(offset + 4, true)
  return high * 0x100000000 + low
}

const textDecoder = new TextDecoder('utf-8')

/** Decodes bytes up to the first NUL (or all of them) as UTF-8. */
export function decodeCString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0)
  return textDecoder.decode(nul === -1 ? bytes : bytes.subarray(0, nul))
}

/** Splits NUL-separated strings (argv, environ); a trailing NUL ends the last one. */
export function splitNulSeparated(bytes: Uint8Array): string[] {
  const text = textDecoder.decode(bytes)
  const parts = text.split('\0')
  if (parts.at(-1) === '') parts.pop()
  return parts
}
