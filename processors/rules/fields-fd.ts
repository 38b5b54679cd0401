import type { FileDescriptorInfo, SyscallEvent } from '../../schemas/types.js'
import { perEvent } from './event-cache.js'
import { int64, optional, simpleField, unavailableField } from './field-helpers.js'
import type { FieldAccessor, FieldDefinition, FieldType, FieldValue } from './field-table.js'

type FdPart = (fd: FileDescriptorInfo, event: SyscallEvent) => FieldValue

const LIST = { isList: true }
const FILE_TYPES = new Set(['file', 'directory'])
const IP_TYPES = new Set(['ipv4', 'ipv6'])
const OPEN_TYPES = new Set(['open', 'openat', 'openat2', 'creat'])

/** fd.* fields: the file descriptor the event acts on; all missing when the event has none. */
export const FD_FIELDS: FieldDefinition[] = [
  // The most read fields get direct accessors, without the shared descriptor check of fdField.
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
  fdField('fd.cip', 'ipaddr', (fd) => optional(fd.cip)),
  fdField('fd.sip', 'ipaddr', (fd) => optional(fd.sip)),
  fdField('fd.lip', 'ipaddr', (fd) => optional(fd.is_server === true ? fd.sip : fd.cip)),
  fdField('fd.rip', 'ipaddr', (fd) => optional(fd.is_server === true ? fd.cip : fd.sip)),
  fdField('fd.cport', 'number', (fd) => int64(fd.cport)),
  fdField('fd.sport', 'number', (fd) => int64(fd.sport)),
  fdField('fd.lport', 'number', (fd) => int64(fd.is_server === true ? fd.sport : fd.cport)),
  fdField('fd.rport', 'number', (fd) => int64(fd.is_server === true ? fd.cport : fd.sport)),
  simpleField('fd.ip', 'ipaddr', perEvent(fdPart((fd) => present([fd.cip, fd.sip]))), LIST),
  simpleField('fd.port', 'number', perEvent(fdPart((fd) => present([fd.cport, fd.sport]))), LIST),
  simpleField('fd.net', 'ipnet', perEvent(fdPart((fd) => present([fd.cip, fd.sip]))), LIST),
  fdField('fd.cnet', 'ipnet', (fd) => optional(fd.cip)),
  fdField('fd.snet', 'ipnet', (fd) => optional(fd.sip)),
  fdField('fd.lnet', 'ipnet', (fd) => optional(fd.is_server === true ? fd.sip : fd.cip)),
  fdField('fd.rnet', 'ipnet', (fd) => optional(fd.is_server === true ? fd.cip : fd.sip)),
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

function fdPart(part: FdPart): FieldAccessor {
  return (event) => (event.fd === null ? undefined : part(event.fd, event))
}

function present(values: (string | number | null)[]): FieldValue {
  return values.filter((value): value is string | number => value !== null)
}

/** Returns the directory of a file's path, or the path itself for a directory descriptor. */
function directoryOf(fd: FileDescriptorInfo): FieldValue {
  if (!FILE_TYPES.has(fd.type)) return undefined
  if (fd.type === 'directory') return fd.name
  const slash = fd.name.lastIndexOf('/')
  if (slash < 0) return undefined
  return slash === 0 ? '/' : fd.name.slice(0, slash)
}

function fileNameOf(fd: FileDescriptorInfo): FieldValue {
  if (fd.type !== 'file') return undefined
  return fd.name.slice(fd.name.lastIndexOf('/') + 1)
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
