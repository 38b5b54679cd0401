import type { BatchResult, Probe, ProbeOptions, ProbeStats } from '../../native/src/index.js'

/**
 * A Probe without a kernel, for tests: it hands out records queued with the encoders below, in
 * the byte layout of native/src/record.h, and reports the counters a test sets.
 */
export class FakeProbe implements Probe {
  readonly bootEpochNs: bigint
  readonly counters: Omit<ProbeStats, 'pendingBytes' | 'ringBytes'> = {
    emitted: 0,
    ringFull: 0,
    stashFull: 0,
    readFailed: 0,
    exitWithoutEnter: 0,
    compatSkipped: 0,
  }

  openedWith: ProbeOptions | null = null
  isClosed = false
  private readonly queue: Uint8Array[] = []
  private head = 0

  constructor(bootEpochNs = 1_700_000_000_000_000_000n) {
    this.bootEpochNs = bootEpochNs
  }

  /** Returns an opener that records its options and hands out this probe. */
  opener(): (options: ProbeOptions) => Probe {
    return (options) => {
      this.openedWith = options
      return this
    }
  }

  push(...records: Uint8Array[]): void {
    this.queue.push(...records)
    this.counters.emitted += records.length
  }

  readBatch(buffer: Uint8Array): BatchResult {
    if (this.isClosed) throw new Error('reading the probe failed: it is closed')
    let bytes = 0
    let records = 0
    while (this.head < this.queue.length && bytes + this.queue[this.head].length <= buffer.length) {
      const record = this.queue[this.head++]
      buffer.set(record, bytes)
      bytes += record.length
      records++
    }
    return { bytes, records }
  }

  stats(): ProbeStats {
    const pending = this.queue.slice(this.head)
    const pendingBytes = pending.reduce((sum, record) => sum + record.length, 0)
    return { ...this.counters, pendingBytes, ringBytes: 1 << 20 }
  }

  close(): void {
    this.isClosed = true
  }
}

export interface HeaderFields {
  tsNs?: bigint
  cpu?: number
  pid: number
  tid?: number
  uid?: number
  gid?: number
}

/** Encodes a syscall record; blobs are per argument index, index 6 is the return value's. */
export function encodeSyscall(
  header: HeaderFields,
  nr: number,
  res: number,
  args: number[],
  blobs: Record<number, Uint8Array> = {},
): Uint8Array {
  const blobList = Array.from({ length: 7 }, (_, i) => blobs[i] ?? new Uint8Array(0))
  const size = 104 + blobList.reduce((sum, blob) => sum + blob.length, 0)
  const record = new Uint8Array(size)
  const view = writeHeader(record, header, 1)
  view.setUint16(32, nr, true)
  blobList.forEach((blob, i) => view.setUint16(34 + i * 2, blob.length, true))
  view.setBigInt64(48, BigInt(res), true)
  args.forEach((arg, i) => view.setBigInt64(56 + i * 8, BigInt(arg), true))
  let offset = 104
  for (const blob of blobList) {
    record.set(blob, offset)
    offset += blob.length
  }
  return record
}

export function encodeFork(
  header: HeaderFields,
  child: { pid: number; tid?: number; ppid?: number; isThread?: boolean; startNs?: bigint },
): Uint8Array {
  const record = new Uint8Array(64)
  const view = writeHeader(record, header, 2)
  view.setUint32(32, child.pid, true)
  view.setUint32(36, child.tid ?? child.pid, true)
  view.setUint32(40, child.ppid ?? header.pid, true)
  view.setUint32(44, child.isThread === true ? 1 : 0, true)
  view.setBigUint64(48, child.startNs ?? 0n, true)
  view.setUint32(56, child.pid, true)
  view.setUint32(60, child.tid ?? child.pid, true)
  return record
}

export interface ExecFields {
  ppid: number
  comm: string
  filename: string
  argv: string[]
  env?: string[]
  cgroup?: string
  loginUid?: number
  sid?: number
  tty?: number
  capEffective?: bigint
  exeMode?: number
}

export function encodeExec(header: HeaderFields, exec: ExecFields): Uint8Array {
  const filename = utf8(`${exec.filename}\0`)
  const argv = utf8(exec.argv.map((arg) => `${arg}\0`).join(''))
  const env = utf8((exec.env ?? []).map((entry) => `${entry}\0`).join(''))
  const cgroup = utf8(exec.cgroup ?? '/')
  const record = new Uint8Array(144 + filename.length + argv.length + env.length + cgroup.length)
  const view = writeHeader(record, header, 3)
  view.setUint32(32, header.tid ?? header.pid, true)
  view.setUint32(36, exec.ppid, true)
  view.setUint32(40, exec.loginUid ?? 0xffffffff, true)
  view.setUint32(44, exec.sid ?? header.pid, true)
  view.setUint32(48, header.pid, true)
  view.setUint32(52, exec.tty ?? 0, true)
  view.setUint32(56, header.pid, true)
  view.setBigUint64(80, exec.capEffective ?? 0n, true)
  view.setUint16(112, exec.exeMode ?? 0o100755, true)
  view.setUint16(116, filename.length, true)
  view.setUint16(118, argv.length, true)
  view.setUint16(120, env.length, true)
  view.setUint16(122, cgroup.length, true)
  record.set(utf8(exec.comm).subarray(0, 15), 128)
  let offset = 144
  for (const blob of [filename, argv, env, cgroup]) {
    record.set(blob, offset)
    offset += blob.length
  }
  return record
}

export function encodeExit(header: HeaderFields, isGroupDead = true): Uint8Array {
  const record = new Uint8Array(40)
  const view = writeHeader(record, header, 4)
  view.setUint32(36, isGroupDead ? 1 : 0, true)
  return record
}

export function encodeCgroup(header: HeaderFields, targetPid: number, path: string): Uint8Array {
  const bytes = utf8(path)
  const record = new Uint8Array(48 + bytes.length)
  const view = writeHeader(record, header, 5)
  view.setUint32(32, targetPid, true)
  view.setUint32(36, targetPid, true)
  view.setUint16(44, bytes.length, true)
  view.setUint16(46, 1, true)
  record.set(bytes, 48)
  return record
}

/** Encodes a NUL-terminated string blob, as the probe reads user strings. */
export function stringBlob(text: string): Uint8Array {
  return utf8(`${text}\0`)
}

/** Encodes a pg_file_info blob. */
export function fileInfoBlob(ino: number, mode: number, isCreated = false): Uint8Array {
  const blob = new Uint8Array(16)
  const view = new DataView(blob.buffer)
  view.setBigUint64(0, BigInt(ino), true)
  view.setUint32(8, 0x801, true)
  view.setUint16(12, mode, true)
  view.setUint16(14, isCreated ? 2 : 0, true)
  return blob
}

/** Encodes the pg_socket_info blob of a TCP/IPv4 socket. */
export function ipv4SocketBlob(local: [string, number], remote: [string, number]): Uint8Array {
  const blob = new Uint8Array(48)
  const view = new DataView(blob.buffer)
  view.setUint16(0, 2, true)
  view.setUint16(2, 1, true)
  view.setUint16(4, 6, true)
  view.setUint16(6, local[1], true)
  view.setUint16(8, remote[1], true)
  blob.set(local[0].split('.').map(Number), 16)
  blob.set(remote[0].split('.').map(Number), 32)
  return blob
}

/** Encodes a struct sockaddr_in blob. */
export function ipv4SockaddrBlob(address: string, port: number): Uint8Array {
  const blob = new Uint8Array(16)
  const view = new DataView(blob.buffer)
  view.setUint16(0, 2, true)
  view.setUint16(2, port, false)
  blob.set(address.split('.').map(Number), 4)
  return blob
}

function writeHeader(record: Uint8Array, header: HeaderFields, kind: number): DataView {
  const view = new DataView(record.buffer, record.byteOffset, record.length)
  view.setBigUint64(0, header.tsNs ?? 1_000n, true)
  view.setUint32(8, record.length, true)
  view.setUint16(12, kind, true)
  view.setUint16(14, header.cpu ?? 0, true)
  view.setUint32(16, header.pid, true)
  view.setUint32(20, header.tid ?? header.pid, true)
  view.setUint32(24, header.uid ?? 0, true)
  view.setUint32(28, header.gid ?? 0, true)
  return view
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}
