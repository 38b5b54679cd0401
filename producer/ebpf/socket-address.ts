import { SOCKET_FAMILIES } from './arg-format.js'

export const AF_UNIX = 1
export const AF_INET = 2
export const AF_INET6 = 10
const SOCK_STREAM = 1
const SOCK_DGRAM = 2
const SOCK_RAW = 3
const IPPROTO_ICMP = 1
const IPPROTO_TCP = 6
const IPPROTO_UDP = 17
const SOCKET_INFO_BYTES = 48

export interface SocketAddress {
  family: number
  /** Dotted IPv4, compressed IPv6, or the unix socket path ('@name' for abstract ones). */
  address: string
  port: number | null
}

/** The kernel's view of a socket: pg_socket_info in native/src/record.h. */
export interface SocketInfo {
  family: number
  type: number
  protocol: number
  local: SocketAddress
  remote: SocketAddress
}

/**
 * Decodes a struct sockaddr read from user memory. Returns null for a family other than unix,
 * IPv4 and IPv6, or a buffer too short for its family.
 */
export function parseSockaddr(bytes: Uint8Array): SocketAddress | null {
  if (bytes.length < 2) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  const family = view.getUint16(0, true)

  if (family === AF_INET && bytes.length >= 8) {
    return { family, address: formatIpv4(bytes.subarray(4, 8)), port: view.getUint16(2, false) }
  }
  if (family === AF_INET6 && bytes.length >= 24) {
    return { family, address: formatIpv6(bytes.subarray(8, 24)), port: view.getUint16(2, false) }
  }
  if (family === AF_UNIX) return { family, address: formatUnixPath(bytes.subarray(2)), port: null }
  return null
}

/** Decodes the socket blob of a socket fd argument or a socket-returning syscall. */
export function parseSocketInfo(bytes: Uint8Array): SocketInfo | null {
  if (bytes.length < SOCKET_INFO_BYTES) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  const family = view.getUint16(0, true)
  const info = {
    family,
    type: view.getUint16(2, true),
    protocol: view.getUint16(4, true),
    local: { family, address: '', port: view.getUint16(6, true) as number | null },
    remote: { family, address: '', port: view.getUint16(8, true) as number | null },
  }

  if (family === AF_INET) {
    info.local.address = formatIpv4(bytes.subarray(16, 20))
    info.remote.address = formatIpv4(bytes.subarray(32, 36))
  } else if (family === AF_INET6) {
    info.local.address = formatIpv6(bytes.subarray(16, 32))
    info.remote.address = formatIpv6(bytes.subarray(32, 48))
  } else if (family === AF_UNIX) {
    info.local = { family, address: formatUnixPath(bytes.subarray(SOCKET_INFO_BYTES)), port: null }
    info.remote = { family, address: '', port: null }
  }
  return info
}

/** Falco's fd.l4proto for a socket type and protocol. */
export function l4Protocol(type: number, protocol: number): string | null {
  if (protocol === IPPROTO_TCP || (protocol === 0 && type === SOCK_STREAM)) return 'tcp'
  if (protocol === IPPROTO_UDP || (protocol === 0 && type === SOCK_DGRAM)) return 'udp'
  if (protocol === IPPROTO_ICMP) return 'icmp'
  if (type === SOCK_RAW) return 'raw'
  return null
}

export function familyName(family: number): string {
  return SOCKET_FAMILIES[family] ?? String(family)
}

/** Formats `address:port`, with brackets-free IPv6 as Falco prints fd.name tuples. */
export function formatEndpoint(endpoint: SocketAddress): string {
  return endpoint.port === null ? endpoint.address : `${endpoint.address}:${endpoint.port}`
}

export function formatIpv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`
}

/** Formats an IPv6 address in RFC 5952 form; IPv4-mapped addresses print as IPv4. */
export function formatIpv6(bytes: Uint8Array): string {
  const isV4Mapped =
    bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  if (isV4Mapped) return formatIpv4(bytes.subarray(12, 16))

  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1])
  const [zeroStart, zeroLength] = longestZeroRun(groups)
  const hex = groups.map((group) => group.toString(16))
  if (zeroLength < 2) return hex.join(':')
  const head = hex.slice(0, zeroStart).join(':')
  const tail = hex.slice(zeroStart + zeroLength).join(':')
  return `${head}::${tail}`
}

function longestZeroRun(groups: number[]): [number, number] {
  let bestStart = -1
  let bestLength = 0
  let start = -1
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start === -1) start = i
      continue
    }
    if (start !== -1 && i - start > bestLength) {
      bestStart = start
      bestLength = i - start
    }
    start = -1
  }
  return [bestStart, bestLength]
}

function formatUnixPath(bytes: Uint8Array): string {
  if (bytes.length === 0) return ''
  if (bytes[0] === 0) {
    const end = bytes.indexOf(0, 1)
    return `@${Buffer.from(bytes.subarray(1, end === -1 ? bytes.length : end)).toString('utf8')}`
  }
  const end = bytes.indexOf(0)
  return Buffer.from(bytes.subarray(0, end === -1 ? bytes.length : end)).toString('utf8')
}
