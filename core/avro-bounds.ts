import type { Type } from 'avsc'

/** A varint longer than this cannot be a 64-bit Avro long. */
const MAX_VARINT_BYTES = 10

interface Cursor {
  buffer: Buffer
  position: number
}

/**
 * Walks one Avro-encoded value against its writer type and throws when the bytes cannot be a
 * value of that type: a length or a block count larger than the bytes left, a union index out of
 * range, a varint too long, or data past the end.
 *
 * avsc's decoder trusts block counts: a 50-byte record that claims 2^32 array items makes it
 * allocate until the heap runs out, and a map that claims 2^50 entries loops for ever. Run on
 * untrusted bytes, this walk is linear in the buffer size, because every block count and length
 * is checked against the bytes that remain before anything is allocated or looped over.
 */
export function checkAvroBounds(type: Type, buffer: Buffer, offset: number): void {
  let walker = compiled.get(type)
  if (walker === undefined) {
    walker = compileWalker(type)
    compiled.set(type, walker)
  }
  const cursor: Cursor = { buffer, position: offset }
  walker(cursor)
  if (cursor.position !== buffer.length) {
    throw new Error(`${buffer.length - cursor.position} bytes left after the value`)
  }
}

type Walker = (cursor: Cursor) => void

/** Walkers compiled once per writer type, so the per-message walk does no type dispatch. */
const compiled = new WeakMap<Type, Walker>()

function compileWalker(type: Type): Walker {
  const name = type.typeName
  if (name === 'null') return () => {}
  if (name === 'boolean') return (cursor) => advance(cursor, 1)
  if (name === 'int' || name === 'long' || name.endsWith(':long') || name === 'enum') {
    return (cursor) => {
      readVarint(cursor)
    }
  }
  if (name === 'float') return (cursor) => advance(cursor, 4)
  if (name === 'double') return (cursor) => advance(cursor, 8)
  if (name === 'string' || name === 'bytes') return (cursor) => advance(cursor, readLength(cursor))
  if (name === 'fixed') {
    const size = (type as unknown as { size: number }).size
    return (cursor) => advance(cursor, size)
  }
  if (name === 'record' || name === 'error') return compileRecord(type)
  if (name === 'array') {
    const item = compileWalker((type as unknown as { itemsType: Type }).itemsType)
    return (cursor) => walkBlocks(cursor, item)
  }
  if (name === 'map') {
    const value = compileWalker((type as unknown as { valuesType: Type }).valuesType)
    const entry: Walker = (cursor) => {
      advance(cursor, readLength(cursor))
      value(cursor)
    }
    return (cursor) => walkBlocks(cursor, entry)
  }
  if (name.startsWith('union')) return compileUnion(type)
  if (name.startsWith('logical:'))
    return compileWalker((type as unknown as { underlyingType: Type }).underlyingType)
  throw new Error(`unsupported Avro type ${name}`)
}

function compileRecord(type: Type): Walker {
  const fields = (type as unknown as { fields: Array<{ type: Type }> }).fields.map((field) =>
    compileWalker(field.type),
  )
  return (cursor) => {
    for (const field of fields) field(cursor)
  }
}

function compileUnion(type: Type): Walker {
  const branches = (type as unknown as { types: Type[] }).types.map((branch) =>
    compileWalker(branch),
  )
  return (cursor) => {
    const index = readVarint(cursor)
    if (index < 0 || index >= branches.length) {
      throw new Error(`union branch ${index} does not exist (the union has ${branches.length})`)
    }
    branches[index](cursor)
  }
}

/** Walks array or map blocks: a count, a byte size when the count is negative, then the items. */
function walkBlocks(cursor: Cursor, walkItem: Walker): void {
  for (;;) {
    let count = readVarint(cursor)
    if (count === 0) return
    if (count < 0) {
      count = -count
      readLength(cursor)
    }
    // Every item of Peregrine's schemas, and of any schema whose items are not null or empty
    // records, takes at least one byte, so a count above the bytes left is a lie.
    const remaining = cursor.buffer.length - cursor.position
    if (count > remaining)
      throw new Error(`block claims ${count} items with ${remaining} bytes left`)
    for (let item = 0; item < count; item++) walkItem(cursor)
  }
}

function readLength(cursor: Cursor): number {
  const length = readVarint(cursor)
  const remaining = cursor.buffer.length - cursor.position
  if (length < 0 || length > remaining)
    throw new Error(`length ${length} with ${remaining} bytes left`)
  return length
}

/** Reads a zigzag varint as a number; values past 2^53 lose precision, which is fine for counts. */
function readVarint(cursor: Cursor): number {
  let zigzag = 0
  let scale = 1
  for (let read = 0; read < MAX_VARINT_BYTES; read++) {
    if (cursor.position >= cursor.buffer.length) throw new Error('value ends inside a number')
    const byte = cursor.buffer[cursor.position++]
    zigzag += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2
    scale *= 128
  }
  throw new Error(`number longer than ${MAX_VARINT_BYTES} bytes`)
}

function advance(cursor: Cursor, bytes: number): void {
  if (cursor.position + bytes > cursor.buffer.length) {
    throw new Error(
      `value needs ${bytes} bytes with ${cursor.buffer.length - cursor.position} left`,
    )
  }
  cursor.position += bytes
}
