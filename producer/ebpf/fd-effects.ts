import { fdEntry, fdEntryFromLink } from '../state/fd-table.js'
import { readFdPair, toInt32 } from './syscall-args.js'
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  familyName,
  formatEndpoint,
  l4Protocol,
  parseSocketInfo,
} from './socket-address.js'
import type { FileDescriptorInfo } from '../../schemas/types.js'
import type { FdEntry } from '../state/fd-table.js'
import type { ProcessEntry } from '../state/process-table.js'
import type { SyscallRecord } from './record-decoder.js'
import type { FormattedArgs } from './syscall-args.js'
import type { SocketInfo } from './socket-address.js'
import type { SyscallDefinition } from './syscall-table.js'

/** Reads a descriptor the table has not seen from /proc/<pid>/fd. */
export type FdTargetReader = (pid: number, fd: number) => string | null

const S_IFMT = 0o170000
const S_IFDIR = 0o040000
const FILE_INFO_BYTES = 16
const FLAG_MEMFD = 0x1
const FLAG_CREATED = 0x2
const F_DUPFD = 0
const F_DUPFD_CLOEXEC = 1030

/** File facts from the probe's pg_file_info blob for a descriptor an open returned. */
export interface FileInfo {
  ino: number
  dev: number
  mode: number
  isMemfd: boolean
  isCreated: boolean
}

export function parseFileInfo(blob: Uint8Array | null): FileInfo | null {
  if (blob === null || blob.length < FILE_INFO_BYTES) return null
  const view = new DataView(blob.buffer, blob.byteOffset, FILE_INFO_BYTES)
  const flags = view.getUint16(14, true)
  return {
    ino: view.getUint32(0, true) + view.getUint32(4, true) * 0x100000000,
    dev: view.getUint32(8, true),
    mode: view.getUint16(12, true),
    isMemfd: (flags & FLAG_MEMFD) !== 0,
    isCreated: (flags & FLAG_CREATED) !== 0,
  }
}

/**
 * Applies what a syscall changes in the process's descriptor table and working folder, and
 * returns the descriptor the event acts on (null when it has none). Failed calls change nothing.
 */
export function applySyscallEffects(
  definition: SyscallDefinition,
  record: SyscallRecord,
  formatted: FormattedArgs,
  process: ProcessEntry,
  readFdTarget: FdTargetReader,
): FileDescriptorInfo | null {
  const res = record.res
  const lookup = (fd: number): FileDescriptorInfo | null =>
    describe(fd, lookupFd(process, fd, readFdTarget))
  const argFd = toInt32(formatted.values.fd ?? formatted.values.oldfd ?? -1)

  switch (definition.name) {
    case 'open':
    case 'openat':
    case 'openat2':
    case 'creat':
      return openedFile(record, formatted.paths.name, process)
    case 'memfd_create':
      return res < 0 ? null : store(process, res, fdEntry('memfd', `memfd:${formatted.args.name}`))
    case 'close': {
      const closed = lookup(argFd)
      if (res === 0) process.fds.delete(argFd)
      return closed
    }
    case 'dup':
    case 'dup2':
    case 'dup3':
      return res < 0 ? lookup(argFd) : duplicate(process, argFd, res, readFdTarget)
    case 'fcntl': {
      const cmd = formatted.values.cmd
      const isDup = (cmd === F_DUPFD || cmd === F_DUPFD_CLOEXEC) && res >= 0
      return isDup ? duplicate(process, argFd, res, readFdTarget) : lookup(argFd)
    }
    case 'pipe':
    case 'pipe2':
    case 'socketpair':
      return res < 0 ? null : storePair(definition.name, record, process)
    case 'socket':
      return res < 0 ? null : storeSocket(process, res, parseBlobSocket(record, 6), null)
    case 'connect':
    case 'sendto':
    case 'recvfrom':
    case 'sendmsg':
    case 'recvmsg':
      return updateSocket(
        process,
        argFd,
        parseBlobSocket(record, 0),
        false,
        formatted.args.addr,
        readFdTarget,
      )
    case 'bind':
    case 'listen':
      return updateSocket(
        process,
        argFd,
        parseBlobSocket(record, 0),
        true,
        formatted.args.addr,
        readFdTarget,
      )
    case 'accept':
    case 'accept4':
      return res < 0 ? null : storeSocket(process, res, parseBlobSocket(record, 6), true)
    case 'chdir':
      if (res === 0 && formatted.paths.path !== undefined) setCwd(process, formatted.paths.path)
      return null
    case 'fchdir': {
      const dir = lookup(argFd)
      if (res === 0 && dir !== null) setCwd(process, dir.name)
      return dir
    }
    case 'userfaultfd':
      return res < 0 ? null : store(process, res, fdEntry('userfaultfd', 'userfaultfd'))
    case 'bpf':
      return res < 0 ? null : store(process, res, fdEntry('bpf', 'bpf'))
    case 'fchmod':
    case 'finit_module':
    case 'setns':
      return lookup(argFd)
    default:
      return null
  }
}

/** Returns a descriptor's entry, reading /proc for one opened before the probe saw it. */
export function lookupFd(
  process: ProcessEntry,
  fd: number,
  readFdTarget: FdTargetReader,
): FdEntry | null {
  if (fd < 0) return null
  const known = process.fds.get(fd)
  if (known !== undefined) return known
  const target = readFdTarget(process.pid, fd)
  if (target === null) return null
  const entry = fdEntryFromLink(target)
  process.fds.set(fd, entry)
  return entry
}

function openedFile(
  record: SyscallRecord,
  path: string | undefined,
  process: ProcessEntry,
): FileDescriptorInfo | null {
  const name = path ?? ''
  if (record.res < 0) return describe(record.res, fdEntry('file', name))
  const info = parseFileInfo(record.blobs[6])
  const isDirectory = info !== null && (info.mode & S_IFMT) === S_IFDIR
  const entry = fdEntry(isDirectory ? 'directory' : 'file', name, {
    ino: info?.ino ?? null,
    dev: info?.dev ?? null,
  })
  return store(process, record.res, entry)
}

function duplicate(
  process: ProcessEntry,
  oldFd: number,
  newFd: number,
  readFdTarget: FdTargetReader,
): FileDescriptorInfo | null {
  const source = lookupFd(process, oldFd, readFdTarget)
  if (source === null) {
    process.fds.delete(newFd)
    return null
  }
  return store(process, newFd, source)
}

function storePair(
  name: string,
  record: SyscallRecord,
  process: ProcessEntry,
): FileDescriptorInfo | null {
  const [first, second] = readFdPair(record.blobs[name === 'socketpair' ? 3 : 0])
  if (first < 0 || second < 0) return null
  const type = name === 'socketpair' ? 'unix' : 'pipe'
  const extra = name === 'socketpair' ? { sockfamily: 'unix' } : {}
  store(process, second, fdEntry(type, '', extra))
  return store(process, first, fdEntry(type, '', extra))
}

function storeSocket(
  process: ProcessEntry,
  fd: number,
  socket: SocketInfo | null,
  isServer: boolean | null,
): FileDescriptorInfo {
  return store(process, fd, socketEntry(socket, isServer, null))
}

function updateSocket(
  process: ProcessEntry,
  fd: number,
  socket: SocketInfo | null,
  isServer: boolean,
  peerAddress: string | undefined,
  readFdTarget: FdTargetReader,
): FileDescriptorInfo | null {
  const known = lookupFd(process, fd, readFdTarget)
  if (socket === null) return describe(fd, known)
  const wasServer = known?.is_server === true
  return store(process, fd, socketEntry(socket, isServer || wasServer, peerAddress ?? null))
}

/**
 * Builds a socket entry. For IP sockets the client is the remote end on a server socket and the
 * local end otherwise, so fd.name reads `client->server` as in Falco. A unix socket's name is
 * its bound path, or the peer path it connected to.
 */
function socketEntry(
  socket: SocketInfo | null,
  isServer: boolean | null,
  peerAddress: string | null,
): FdEntry {
  if (socket === null) return fdEntry('unknown', '')
  const l4proto = l4Protocol(socket.type, socket.protocol)

  if (socket.family === AF_INET || socket.family === AF_INET6) {
    const [client, server] =
      isServer === true ? [socket.remote, socket.local] : [socket.local, socket.remote]
    const isConnected = socket.remote.port !== 0
    const name = isConnected
      ? `${formatEndpoint(client)}->${formatEndpoint(server)}`
      : formatEndpoint(socket.local)
    return fdEntry(socket.family === AF_INET ? 'ipv4' : 'ipv6', name, {
      l4proto,
      sockfamily: 'ip',
      cip: isConnected ? client.address : null,
      cport: isConnected ? client.port : null,
      sip: isConnected || isServer === true ? server.address : null,
      sport: isConnected || isServer === true ? server.port : null,
      is_server: isServer,
    })
  }
  if (socket.family === AF_UNIX) {
    const name = socket.local.address !== '' ? socket.local.address : (peerAddress ?? '')
    return fdEntry('unix', name, { sockfamily: 'unix', is_server: isServer })
  }
  return fdEntry(socket.family === 16 ? 'netlink' : 'unknown', familyName(socket.family), {
    l4proto,
  })
}

function parseBlobSocket(record: SyscallRecord, index: number): SocketInfo | null {
  const blob = record.blobs[index]
  return blob === null ? null : parseSocketInfo(blob)
}

function setCwd(process: ProcessEntry, cwd: string): void {
  process.cwd = cwd
  process.revision++
}

/**
 * Stores a descriptor and returns its event field. The table keeps the returned object itself, so
 * later events on the same descriptor share it, and events must not modify it.
 */
function store(process: ProcessEntry, fd: number, entry: FdEntry): FileDescriptorInfo {
  const info: FileDescriptorInfo = { num: fd, ...entry }
  process.fds.set(fd, info)
  return info
}

function describe(fd: number, entry: FdEntry | null): FileDescriptorInfo | null {
  if (entry === null) return null
  const stored = entry as Partial<FileDescriptorInfo>
  return stored.num === fd ? (entry as FileDescriptorInfo) : { num: fd, ...entry }
}
