/**
 * Error codes of Peregrine. The list is closed: every error a component raises carries one of them,
 * so logs, metrics and native failures can be matched on `code` rather than on message text.
 */
export const ERROR_CODES = [
  'PEREGRINE_CONFIG_INVALID',
  'PEREGRINE_SCHEMA_INVALID',
  'PEREGRINE_SCHEMA_REGISTRY_FAILED',
  'PEREGRINE_DECODE_FAILED',
  'PEREGRINE_KAFKA_FAILED',
  'PEREGRINE_SINK_DELIVERY_FAILED',
  'PEREGRINE_SOURCE_FAILED',
  'PEREGRINE_PROBE_UNAVAILABLE',
  'PEREGRINE_RULES_INVALID',
  'PEREGRINE_RULE_EVALUATION_FAILED',
  'PEREGRINE_STACK_FAILED',
  'PEREGRINE_AGGREGATE',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export interface ErrorContext {
  topic?: string
  partition?: number
  offset?: string
  sink?: string
  ruleId?: string
  file?: string
  line?: number
  column?: number
  key?: string
  [name: string]: unknown
}

export interface PeregrineErrorOptions {
  cause?: unknown
  retriable?: boolean
  context?: ErrorContext
}

/**
 * Base class of every error Peregrine raises on purpose. `retriable` is false unless the code that
 * understood the failure set it; the retry helper reads only this flag.
 */
export class PeregrineError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly context: ErrorContext

  constructor(code: ErrorCode, message: string, options: PeregrineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.retriable = options.retriable ?? false
    this.context = options.context ?? {}
  }
}

/** An invalid configuration value or file. Never retriable: the operator must fix the input. */
export class ConfigError extends PeregrineError {
  constructor(message: string, options: PeregrineErrorOptions = {}) {
    super('PEREGRINE_CONFIG_INVALID', message, options)
  }
}

/** A schema that does not parse, a registry call that failed, or a payload that does not decode. */
export class SchemaError extends PeregrineError {}

/** A failed Kafka operation: connect, produce, consume, commit or admin. */
export class KafkaError extends PeregrineError {
  constructor(message: string, options: PeregrineErrorOptions = {}) {
    super('PEREGRINE_KAFKA_FAILED', message, options)
  }
}

/** A failed delivery to a sink destination; the HTTP layer decides `retriable`. */
export class SinkDeliveryError extends PeregrineError {
  readonly statusCode?: number
  readonly retryAfterMs?: number

  constructor(
    message: string,
    options: PeregrineErrorOptions & { statusCode?: number; retryAfterMs?: number } = {},
  ) {
    super('PEREGRINE_SINK_DELIVERY_FAILED', message, options)
    this.statusCode = options.statusCode
    this.retryAfterMs = options.retryAfterMs
  }
}

/** An event source (capture file, event file, probe) that cannot be read. */
export class SourceError extends PeregrineError {
  constructor(message: string, options: PeregrineErrorOptions = {}) {
    super('PEREGRINE_SOURCE_FAILED', message, options)
  }
}

/** A rules file that does not load, or a rule that fails while it is evaluated. */
export class RuleError extends PeregrineError {
  constructor(message: string, options: PeregrineErrorOptions & { evaluation?: boolean } = {}) {
    const code =
      options.evaluation === true ? 'PEREGRINE_RULE_EVALUATION_FAILED' : 'PEREGRINE_RULES_INVALID'
    super(code, message, options)
  }
}

/** The local stack (broker or registry) failed to start, stop or respond. */
export class StackError extends PeregrineError {
  constructor(message: string, options: PeregrineErrorOptions = {}) {
    super('PEREGRINE_STACK_FAILED', message, options)
  }
}

/**
 * Several failures of one batch or one validation pass, reported together so the caller sees every
 * one of them and their count instead of only the first.
 */
export class AggregateFailure extends PeregrineError {
  readonly errors: Error[]

  constructor(message: string, errors: Error[], options: PeregrineErrorOptions = {}) {
    super('PEREGRINE_AGGREGATE', `${message} (${errors.length} failures)`, {
      ...options,
      retriable: options.retriable ?? errors.every(isRetriable),
    })
    this.errors = errors
  }
}

/**
 * Tells whether an error may succeed on retry. Programmer errors (TypeError, RangeError and the
 * like) never do; other errors only when they carry `retriable: true`.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) {
    return false
  }
  if (error instanceof PeregrineError) return error.retriable
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { retriable?: unknown }).retriable === true
  )
}

/** Returns the message of any thrown value, for the places that must show one. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
