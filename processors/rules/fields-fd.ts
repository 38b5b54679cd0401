import type { FileDescriptorInfo, SyscallEvent } from '../../schemas/types.js'
import { perEvent } from './event-cache.js'
import { int64, optional, simpleField, unavailableField } from './field-helpers.js'
import type { FieldAccessor, FieldDefinition, FieldType, FieldValue } from './field-table.js'

type FdPart = (fd: FileDescriptorInfo, event: SyscallEvent) => FieldValue

/**
 * fd.ip, fd.port and fd.net read both ends of a socket, and `!=` on them holds only when it
 * holds for both ends, as in libsinsp's compare_ip, compare_port and compare_net.
 */
const BOTH_ENDS = { isList: true, isNotEqualForAll: true }
const ZERO_ADDRESSES: Record<string, string> = { ipv4: '0.0.0.0', ipv6: '::' }
const FILE_TYPES = new Set(['file', 'directory'])
const IP_TYPES = new Set(['ipv4', 'ipv6'])
const OPEN_TYPES = new Set(['open', 'openat', 'openat2', 'creat'])

/** fd.* fields: the file descriptor the event acts on; all missing when the event has none. */
export const FD_FIELDS: FieldDefinition[] = [
  // The fields rules read most often get direct accessors, without the wrapper of fdField.
  simpleField('fd.num', 'number', (event) => (event.fd === null ? undefined : event.fd.num)),
  simpleField('fd.type', 'string', (event) => (event.fd === null ? undefined : event.fd.type)),
  simpleField('fd.typechar', 'string', (event) =>
    event.fd === null ? undefined : event.fd.typechar,
  ),
  simpleField('fd.name', 'string', (event) => (event.fd === null ? undefined : event.fd.name)),
  fdField('fd.nameraw', 'string', rawName),
  simpleField('fd.directory', 'string', perEvent(fdPart(directoryOf))),
  simpleField('fd.filename', 'string', perEvent(fdPart(fileNameOf))),
  fdField('fd.ino', 'number', (fd) => int64(fd.ino)),
  fdField('fd.dev', 'number', (fd) => int64(fd.dev)),
  fdField('fd.l4proto', 'string', (fd) => optional(fd.l4proto)),
  fdField('fd.sockfamily', 'string', (fd) => optional(fd.sockfamily)),
  fdField('fd.is_server', 'bool', (fd) => optional(fd.is_server)),
  fdField('fd.connected', 'bool', isConnected),
  fdField(
    'fd.containername',
    'string',
    (fd, event) => `${event.container?.id ?? 'host'}:${fd.name}`,
  ),
  ipField('fd.cip', 'ipaddr', (fd) => optional(fd.cip)),
  ipField('fd.sip', 'ipaddr', (fd) => optional(fd.sip)),
  ipField('fd.lip', 'ipaddr', (fd) => optional(fd.is_server === true ? fd.sip : fd.cip)),
  ipField('fd.rip', 'ipaddr', (fd) => optional(fd.is_server === true ? fd.cip : fd.sip)),
  ipField('fd.cport', 'number', (fd) => int64(fd.cport)),
  ipField('fd.sport', 'number', (fd) => int64(fd.sport)),
  ipField('fd.lport', 'number', (fd) => int64(fd.is_server === true ? fd.sport : fd.cport)),
  ipField('fd.rport', 'number', (fd) => int64(fd.is_server === true ? fd.cport : fd.sport)),
  simpleField('fd.ip', 'ipaddr', perEvent(fdPart(bothAddresses)), BOTH_ENDS),
  simpleField('fd.port', 'number', perEvent(fdPart(bothPorts)), BOTH_ENDS),
  simpleField('fd.net', 'ipnet', perEvent(fdPart(bothAddresses)), BOTH_ENDS),
  ipField('fd.cnet', 'ipnet', (fd) => optional(fd.cip)),
  ipField('fd.snet', 'ipnet', (fd) => optional(fd.sip)),
  ipField('fd.lnet', 'ipnet', (fd) => optional(fd.is_server === true ? fd.sip : fd.cip)),
  ipField('fd.rnet', 'ipnet', (fd) => optional(fd.is_server === true ? fd.cip : fd.sip)),
  unavailableField('fd.name_changed', 'bool'),
  unavailableField('fd.cip.name', 'string'),
  unavailableField('fd.sip.name', 'string'),
  unavailableField('fd.lip.name', 'string'),
  unavailableField('fd.rip.name', 'string'),
  { ...unavailableField('fd.types', 'string'), argument: 'optional', isList: true },
]

function fdField(name: string, type: FieldType, part: FdPart): FieldDefinition {
  return simpleField(name, type, fdPart(part))
}

/** Defines a field of IP sockets: missing for other descriptors, such as unix sockets. */
function ipField(name: string, type: FieldType, part: FdPart): FieldDefinition {
  return fdField(name, type, (fd, event) => (IP_TYPES.has(fd.type) ? part(fd, event) : undefined))
}

/**
 * Returns the addresses libsinsp compares for fd.ip and fd.net: the server address of a listening
 * socket, else both ends, an end without an address yet reading as the zero address (libsinsp
 * compares its unset fields, which are zero).
 */
function bothAddresses(fd: FileDescriptorInfo): FieldValue {
  if (!IP_TYPES.has(fd.type)) return undefined
  const zero = ZERO_ADDRESSES[fd.type]
  if (isListening(fd)) return [fd.sip ?? zero]
  return [fd.cip ?? zero, fd.sip ?? zero]
}

/** Returns the ports libsinsp compares for fd.port, as bothAddresses() does with addresses. */
function bothPorts(fd: FileDescriptorInfo): FieldValue {
  if (!IP_TYPES.has(fd.type)) return undefined
  if (isListening(fd)) return [fd.sport ?? 0]
  return [fd.cport ?? 0, fd.sport ?? 0]
}

/**
 * NOTE: SyscallEvent does not say whether a socket listens, so a server-side socket without a
 * client address counts as listening. libsinsp reads it from the socket's own state.
 */
function isListening(fd: FileDescriptorInfo): boolean {
  return fd.is_server === true && fd.cip === null
}

function fdPart(part: FdPart): FieldAccessor {
  return (event) => (event.fd === null ? undefined : part(event.fd, event))
}

/**
 * Returns the directory of a file's path, or the path itself for a directory descriptor, as
 * libsinsp's fd.directory does. A path without a slash or directly below the root gives `/`, and
 * a path that ends with a slash is returned whole.
 */
function directoryOf(fd: FileDescriptorInfo): FieldValue {
  if (!FILE_TYPES.has(fd.type)) return undefined
  if (fd.type === 'directory') return fd.name
  const slash = fd.name.lastIndexOf('/')
  if (slash <= 0) return '/'
  return slash < fd.name.length - 1 ? fd.name.slice(0, slash) : fd.name
}

/** Returns a file's name after its last slash, as libsinsp's fd.filename does (`/` without one). */
function fileNameOf(fd: FileDescriptorInfo): FieldValue {
  if (fd.type !== 'file') return undefined
  const slash = fd.name.lastIndexOf('/')
  if (slash < 0) return '/'
  return slash < fd.name.length - 1 ? fd.name.slice(slash + 1) : fd.name
}

/**
 * Returns the path as the process passed it, before it was made absolute. SyscallEvent carries it
 * only as the raw `name` or `path` parameter of the call that opened the descriptor.
 */
function rawName(fd: FileDescriptorInfo, event: SyscallEvent): FieldValue {
  if (!FILE_TYPES.has(fd.type)) return fd.name
  if (!OPEN_TYPES.has(event.type)) return undefined
  return event.raw_args.name ?? event.raw_args.path
}

/**
 * NOTE: SyscallEvent has no connected flag, so an IP socket counts as connected when it has a
 * server address and port. An unconnected UDP socket with a remembered peer reads as connected.
 */
function isConnected(fd: FileDescriptorInfo): FieldValue {
  if (!IP_TYPES.has(fd.type)) return false
  return fd.sip !== null && fd.sport !== null && fd.sport !== 0
}
