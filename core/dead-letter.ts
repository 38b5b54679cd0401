import type { Message } from 'kafkajs'
import { PeregrineError, errorMessage } from './errors.js'

/**
 * Kafka headers of a dead-letter record. The value is the original record's bytes, unchanged, so
 * it can be inspected or replayed; the headers record why it landed here and where it came from.
 */
export const DEAD_LETTER_HEADERS = {
  reason: 'peregrine.dlq.reason',
  errorCode: 'peregrine.dlq.error.code',
  topic: 'peregrine.dlq.source.topic',
  partition: 'peregrine.dlq.source.partition',
  offset: 'peregrine.dlq.source.offset',
  stage: 'peregrine.dlq.stage',
  attempts: 'peregrine.dlq.attempts',
  time: 'peregrine.dlq.time',
} as const

export interface DeadLetterSource {
  topic: string
  partition: number
  offset: string
}

export interface DeadLetter {
  key?: Buffer | string | null
  value: Buffer | string | null
  error: unknown
  /** Stage that failed: decode, evaluate, encode or deliver. */
  stage: string
  source?: DeadLetterSource
  attempts?: number
}

/** Builds the Kafka record of one dead letter. The reason is the error's message, one line. */
export function toDeadLetterMessage(letter: DeadLetter): Message {
  const headers: Record<string, string> = {
    [DEAD_LETTER_HEADERS.reason]: oneLine(errorMessage(letter.error)),
    [DEAD_LETTER_HEADERS.errorCode]:
      letter.error instanceof PeregrineError ? letter.error.code : 'UNEXPECTED',
    [DEAD_LETTER_HEADERS.stage]: letter.stage,
    [DEAD_LETTER_HEADERS.time]: new Date().toISOString(),
  }
  if (letter.source !== undefined) {
    headers[DEAD_LETTER_HEADERS.topic] = letter.source.topic
    headers[DEAD_LETTER_HEADERS.partition] = String(letter.source.partition)
    headers[DEAD_LETTER_HEADERS.offset] = letter.source.offset
  }
  if (letter.attempts !== undefined) headers[DEAD_LETTER_HEADERS.attempts] = String(letter.attempts)
  return { key: letter.key ?? null, value: letter.value, headers }
}

/** Reads the headers of a dead-letter record back into strings, for tools and tests. */
export function readDeadLetterHeaders(
  headers: Record<string, unknown> | undefined,
): Record<string, string> {
  const result: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (Buffer.isBuffer(value)) result[name] = value.toString('utf8')
    else if (typeof value === 'string') result[name] = value
  }
  return result
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 2000)
}
