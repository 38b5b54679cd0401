import avro from 'avsc'
import type { Schema, Type } from 'avsc'
import registryModule from '@kafkajs/confluent-schema-registry'
import { SchemaError, errorMessage } from './errors.js'
import { checkAvroBounds } from './avro-bounds.js'
import { EXACT_LONG_TYPE } from './exact-long.js'
import { withTimeout } from './retry.js'

export { EXACT_LONG_TYPE } from './exact-long.js'

const { SchemaRegistry, SchemaType } =
  registryModule as unknown as typeof import('@kafkajs/confluent-schema-registry')
type SchemaRegistryClient = InstanceType<typeof SchemaRegistry>

/** Byte 0 of every Confluent-framed message. */
const MAGIC_BYTE = 0
/** Magic byte plus the 4-byte schema id. */
export const HEADER_BYTES = 5
/** Attempts of a registration that lost a race with another process. */
const REGISTER_ATTEMPTS = 3
/** Time allowed for one schema registry request, in milliseconds. */
const REGISTRY_TIMEOUT_MS = 10_000
/** Starting size of the encoding buffer; it grows to twice the largest record seen. */
export const INITIAL_SCRATCH_BYTES = 16 * 1024

/**
 * Options for avsc's forSchema that every Peregrine schema is parsed with. A type hook, not a
 * `registry` entry, swaps in the exact long: avsc stores named types in the registry object it is
 * given, so a shared registry would make the second parse of a schema fail with "duplicate type".
 */
export const AVRO_PARSE_OPTIONS = { typeHook: exactLongHook }

function exactLongHook(schema: unknown): Type | undefined {
  if (schema === 'long') return EXACT_LONG_TYPE
  const record = schema as { type?: unknown; logicalType?: unknown } | null
  if (
    typeof record === 'object' &&
    record !== null &&
    record.type === 'long' &&
    record.logicalType === undefined
  ) {
    return EXACT_LONG_TYPE
  }
  return undefined
}

interface WriterReader {
  writerType: Type
  /** Resolver from the writer type to the codec's type; undefined when they are the same. */
  resolver: ReturnType<Type['createResolver']> | undefined
}

export interface RegistrySettings {
  url: string
  username?: string
  password?: string
}

/** Creates the schema registry client; the Avro types it builds use EXACT_LONG_TYPE. */
export function createSchemaRegistry(settings: RegistrySettings): SchemaRegistryClient {
  const auth =
    settings.username === undefined
      ? undefined
      : { username: settings.username, password: settings.password ?? '' }
  return new SchemaRegistry({ host: settings.url, auth, clientId: 'peregrine' }, {
    forSchemaOptions: AVRO_PARSE_OPTIONS,
  } as never)
}

/**
 * Encodes and decodes one record type in the Confluent wire format:
 *
 *   byte 0      magic byte 0x00
 *   bytes 1-4   schema id in the registry, signed 32-bit big-endian
 *   bytes 5-    Avro binary encoding of the record, without a container-file header
 *
 * Encoding uses the schema registered at creation. Decoding reads with the writer schema whose id
 * the message names (fetched from the registry once, then cached) and resolves it to this
 * codec's schema, so records written by older or newer compatible schemas decode too.
 */
export class AvroCodec<T> {
  readonly subject: string
  readonly schemaId: number
  private readonly registry: SchemaRegistryClient
  private readonly readerType: Type
  private readonly header: Buffer
  /** Header plus the last encoded body; records are encoded here and copied out in one allocation. */
  private scratch: Buffer
  /** Writer type and its resolver to this schema, by writer schema id. */
  private readonly readers = new Map<number, WriterReader>()

  private constructor(
    registry: SchemaRegistryClient,
    subject: string,
    schemaId: number,
    readerType: Type,
  ) {
    this.registry = registry
    this.subject = subject
    this.schemaId = schemaId
    this.readerType = readerType
    this.header = Buffer.alloc(HEADER_BYTES)
    this.header.writeUInt8(MAGIC_BYTE, 0)
    this.header.writeInt32BE(schemaId, 1)
    this.scratch = Buffer.alloc(INITIAL_SCRATCH_BYTES)
    this.header.copy(this.scratch)
    this.readers.set(schemaId, { writerType: readerType, resolver: undefined })
  }

  /**
   * Registers `schema` under `subject` (TopicNameStrategy: `<topic>-value`) and returns a codec
   * for it. Throws a retriable SchemaError when the registry cannot be reached, and a
   * non-retriable one when it rejects the schema, for instance as incompatible.
   */
  static async register<T>(
    registry: SchemaRegistryClient,
    subject: string,
    schema: Schema,
  ): Promise<AvroCodec<T>> {
    const readerType = parseSchema(schema)
    try {
      const id = await registerWithRetry(registry, subject, schema)
      return new AvroCodec<T>(registry, subject, id, readerType)
    } catch (error) {
      const message = errorMessage(error)
      const status = (error as { status?: number }).status
      // The client reports a refused connection with a made-up status 400, so the message decides.
      const isUnreachable = /ECONN|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|timed out|socket hang up/.test(
        message,
      )
      const hint = isUnreachable
        ? '; check PEREGRINE_REGISTRY_URL (or --registry) and that the registry is running'
        : ''
      throw new SchemaError(
        'PEREGRINE_SCHEMA_REGISTRY_FAILED',
        `registering the schema of subject ${subject} failed: ${message}${hint}`,
        {
          cause: error,
          retriable: isUnreachable || status === undefined || status >= 500,
          context: { key: subject },
        },
      )
    }
  }

  /** Encodes one record. Throws a SchemaError listing every invalid field path. */
  encode(value: T): Buffer {
    try {
      let end = this.readerType.encode(value, this.scratch, HEADER_BYTES)
      if (end < 0) {
        // avsc returns minus the number of bytes missing from the buffer, not the size needed.
        const needed = this.scratch.length - end
        this.scratch = Buffer.alloc(needed * 2)
        this.header.copy(this.scratch)
        end = this.readerType.encode(value, this.scratch, HEADER_BYTES)
        // Returning a short buffer would publish a truncated record that no consumer can read.
        if (end < 0) {
          throw new Error(`encoding failed: ${needed} bytes needed, the buffer was ${-end} short`)
        }
      }
      return Buffer.from(this.scratch.subarray(0, end))
    } catch (error) {
      const paths: string[] = []
      this.readerType.isValid(value, {
        errorHook: (path, fieldValue) => paths.push(`${path.join('.')}=${describe(fieldValue)}`),
      })
      throw new SchemaError(
        'PEREGRINE_SCHEMA_INVALID',
        `record does not match schema ${this.subject}: ${paths.join(', ') || errorMessage(error)}`,
        { cause: error },
      )
    }
  }

  /**
   * Decodes one message. Throws a SchemaError with code PEREGRINE_DECODE_FAILED when the bytes are
   * not Confluent-framed Avro of a compatible schema, and a retriable one with code
   * PEREGRINE_SCHEMA_REGISTRY_FAILED when the writer schema cannot be fetched.
   */
  async decode(message: Buffer | null): Promise<T> {
    const schemaId = readSchemaId(message)
    const reader = this.readers.get(schemaId) ?? (await this.loadReader(schemaId))
    try {
      // The bounds walk runs before avsc, whose decoder would trust a forged block count.
      checkAvroBounds(reader.writerType, message as Buffer, HEADER_BYTES)
      const body = (message as Buffer).subarray(HEADER_BYTES)
      return this.readerType.fromBuffer(body, reader.resolver) as T
    } catch (error) {
      throw new SchemaError(
        'PEREGRINE_DECODE_FAILED',
        `Avro body does not decode with schema id ${schemaId}: ${errorMessage(error)}`,
        { cause: error },
      )
    }
  }

  private async loadReader(schemaId: number): Promise<WriterReader> {
    const writerType = await this.fetchWriterType(schemaId)
    try {
      const reader = { writerType, resolver: this.readerType.createResolver(writerType) }
      this.readers.set(schemaId, reader)
      return reader
    } catch (error) {
      throw new SchemaError(
        'PEREGRINE_DECODE_FAILED',
        `writer schema id ${schemaId} is not compatible with ${this.subject}: ${errorMessage(error)}`,
        { cause: error },
      )
    }
  }

  private async fetchWriterType(schemaId: number): Promise<Type> {
    try {
      return (await withTimeout(
        this.registry.getSchema(schemaId),
        REGISTRY_TIMEOUT_MS,
        `fetching schema id ${schemaId}`,
      )) as unknown as Type
    } catch (error) {
      const status = (error as { status?: number }).status
      if (status === 404) {
        throw new SchemaError(
          'PEREGRINE_DECODE_FAILED',
          `schema id ${schemaId} named by the message is not in the registry`,
          { cause: error },
        )
      }
      throw new SchemaError(
        'PEREGRINE_SCHEMA_REGISTRY_FAILED',
        `fetching schema id ${schemaId} failed: ${errorMessage(error)}`,
        { cause: error, retriable: true },
      )
    }
  }
}

/**
 * Registers a schema, retrying a lost race on a new subject. The client checks the subject's
 * compatibility setting, registers, then sets it; when two processes register a new subject at
 * once, Apicurio rejects the second setting with "A rule named 'COMPATIBILITY' already exists",
 * and a second try finds the setting in place.
 */
async function registerWithRetry(
  registry: SchemaRegistryClient,
  subject: string,
  schema: Schema,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { id } = await withTimeout(
        registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject }),
        REGISTRY_TIMEOUT_MS,
        `registering subject ${subject}`,
      )
      return id
    } catch (error) {
      if (
        attempt >= REGISTER_ATTEMPTS ||
        !/rule named .* already exists/i.test(errorMessage(error))
      )
        throw error
    }
  }
}

/** Parses a schema with the options every Peregrine schema uses; throws SchemaError if invalid. */
export function parseSchema(schema: Schema): Type {
  try {
    return avro.Type.forSchema(schema, { ...AVRO_PARSE_OPTIONS } as never)
  } catch (error) {
    throw new SchemaError(
      'PEREGRINE_SCHEMA_INVALID',
      `invalid Avro schema: ${errorMessage(error)}`,
      { cause: error },
    )
  }
}

/** Reads the schema id of a Confluent-framed message, or throws PEREGRINE_DECODE_FAILED. */
export function readSchemaId(message: Buffer | null): number {
  if (message === null || message.length < HEADER_BYTES) {
    throw new SchemaError(
      'PEREGRINE_DECODE_FAILED',
      `message of ${message?.length ?? 0} bytes is too short for Confluent framing (needs at least ${HEADER_BYTES})`,
    )
  }
  if (message[0] !== MAGIC_BYTE) {
    throw new SchemaError(
      'PEREGRINE_DECODE_FAILED',
      `message is not Confluent-framed Avro: first byte is 0x${message[0].toString(16).padStart(2, '0')}, expected 0x00`,
    )
  }
  return message.readInt32BE(1)
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)
  return value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value))
}
