import { isIPv4, isIPv6 } from 'node:net'

const DOT = 0x2e
const DIGIT_ZERO = 0x30

/** An IP address as a number, with its family's bit width (32 or 128). */
export interface IpAddress {
  value: bigint
  bits: 32 | 128
}

/** A network: the address with its host bits cleared, and the prefix length. */
export interface IpNetwork extends IpAddress {
  prefix: number
}

/** Parses an IPv4 or IPv6 address; undefined when the text is not one. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { value: ipv4Value(text), bits: 32 }
  if (!isIPv6(text)) return undefined
  return { value: ipv6Value(text), bits: 128 }
}

/** Parses `address/prefix`, or a bare address as a single-host network. */
export function parseIpNetwork(text: string): IpNetwork | undefined {
  const [addressText, prefixText, ...rest] = text.split('/')
  const address = parseIpAddress(addressText)
  if (address === undefined || rest.length > 0) return undefined
  const prefix = prefixText === undefined ? address.bits : Number(prefixText)
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > address.bits) return undefined
  return { ...address, value: networkPart(address, prefix), prefix }
}

/** Returns whether two addresses are the same, across textual forms of IPv6. */
export function isSameAddress(left: IpAddress, right: IpAddress): boolean {
  return left.bits === right.bits && left.value === right.value
}

/** Returns whether an address is in a network of the same family. */
export function isInNetwork(address: IpAddress, network: IpNetwork): boolean {
  return address.bits === network.bits && networkPart(address, network.prefix) === network.value
}

function networkPart(address: IpAddress, prefix: number): bigint {
  const hostBits = BigInt(address.bits - prefix)
  return (address.value >> hostBits) << hostBits
}

/** Converts a dotted IPv4 address that isIPv4() accepted into its 32-bit value. */
function ipv4Value(text: string): bigint {
  let value = 0
  let octet = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === DOT) {
      value = value * 256 + octet
      octet = 0
    } else {
      octet = octet * 10 + (code - DIGIT_ZERO)
    }
  }
  return BigInt(value * 256 + octet)
}

function ipv6Value(text: string): bigint {
  let body = text.split('%')[0]
  const embeddedV4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(body)
  if (embeddedV4 !== null) {
    const v4 = ipv4Value(embeddedV4[1])
    const high = (v4 >> 16n).toString(16)
    const low = (v4 & 0xffffn).toString(16)
    body = `${body.slice(0, -embeddedV4[1].length)}${high}:${low}`
  }
  const [head, tail] = body.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
  const missing = 8 - headGroups.length - tailGroups.length
  const groups = [
    ...headGroups,
    ...Array<string>(tail === undefined ? 0 : missing).fill('0'),
    ...tailGroups,
  ]
  return groups.reduce((total, group) => (total << 16n) + BigInt(parseInt(group, 16)), 0n)
}
