import avro from 'avsc'
import type { types as AvroTypes } from 'avsc'

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MIN_LONG = -(2n ** 63n)
const MAX_LONG = 2n ** 63n - 1n
/** Numbers below this magnitude have a zigzag value under 2^53, so plain arithmetic stays exact. */
const NUMBER_PATH_LIMIT = 2 ** 52
/** Varints of up to 7 bytes carry at most 49 bits, so they decode exactly without BigInt. */
const NUMBER_PATH_MAX_BYTES = 7
/** A 64-bit varint takes at most 10 bytes. */
const MAX_VARINT_BYTES = 10

// Reused for every encoded value: avsc copies the returned bytes into its output before it requests
// the next value.
const scratch = Buffer.alloc(MAX_VARINT_BYTES)

/**
 * Avro `long` that keeps all 64 bits: it decodes to a number when the value is a safe integer and to
 * a bigint otherwise, and encodes either. avsc's built-in long rounds values past 2^53.
 *
 * It reads and writes the wire bytes itself (avsc's `noUnpack` mode): Avro encodes a long as a
 * zigzag varint, 7 bits per byte, least significant group first, high bit set on all bytes but the
 * last. Values that fit in a double take a number-only path, so only large values such as
 * nanosecond times pay for BigInt.
 */
export const EXACT_LONG_TYPE: AvroTypes.LongType = avro.types.LongType.__with(
  {
    fromBuffer: decodeZigzagVarint,
    toBuffer: encodeZigzagVarint,
    fromJSON: (value: number | string) => narrow(BigInt(value)),
    toJSON: (value: number | bigint) => (typeof value === 'bigint' ? value.toString() : value),
    isValid: (value: unknown) =>
      Number.isSafeInteger(value) ||
      (typeof value === 'bigint' && value >= MIN_LONG && value <= MAX_LONG),
    compare: compareLongs,
  },
  true,
)

/** Encodes one long as Avro's zigzag varint; the result is only valid until the next call. */
export function encodeZigzagVarint(value: number | bigint): Buffer {
  let length = 0
  if (typeof value === 'number' && value > -NUMBER_PATH_LIMIT && value < NUMBER_PATH_LIMIT) {
    let zigzag = value >= 0 ? value * 2 : -value * 2 - 1
    while (zigzag >= 128) {
      scratch[length++] = (zigzag % 128) | 128
      zigzag = Math.floor(zigzag / 128)
    }
    scratch[length++] = zigzag
    return scratch.subarray(0, length)
  }
  const wide = BigInt(value)
  let zigzag = wide >= 0n ? wide << 1n : (-wide << 1n) - 1n
  while (zigzag >= 128n) {
    scratch[length++] = Number(zigzag & 127n) | 128
    zigzag >>= 7n
  }
  scratch[length++] = Number(zigzag)
  return scratch.subarray(0, length)
}

/** Decodes Avro's zigzag varint bytes into a number when safe, else a bigint. */
export function decodeZigzagVarint(bytes: Buffer): number | bigint {
  if (bytes.length <= NUMBER_PATH_MAX_BYTES) {
    let zigzag = 0
    let scale = 1
    for (const byte of bytes) {
      zigzag += (byte & 127) * scale
      scale *= 128
    }
    return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2
  }
  let zigzag = 0n
  let shift = 0n
  for (const byte of bytes) {
    zigzag |= BigInt(byte & 127) << shift
    shift += 7n
  }
  return narrow((zigzag & 1n) === 0n ? zigzag >> 1n : -((zigzag + 1n) >> 1n))
}

function compareLongs(left: number | bigint, right: number | bigint): number {
  if (left === right) return 0
  return left < right ? -1 : 1
}

function narrow(value: bigint): number | bigint {
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value
}
