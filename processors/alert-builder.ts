import type { Alert, Int64, OutputFieldValue, SyscallEvent } from '../schemas/types.js'

/** Match of one rule, as a rule engine reports it. */
export interface RuleMatch {
  rule: string
  /** Falco's printable priority: Emergency, Alert, Critical, Error, Warning, Notice, Informational, Debug. */
  priority: string
  output: string
  outputFields: Record<string, OutputFieldValue>
  tags: string[]
  source: string
}

/** The part of a loaded rule set the processor uses. */
export interface RuleEvaluator {
  evaluate: (event: SyscallEvent) => readonly RuleMatch[]
}

export interface EventPosition {
  topic: string
  partition: number
  offset: string
}

const NANOS_PER_SECOND = 1_000_000_000n

/**
 * Maximum length of the output text and of each output field value. A process can make its
 * command line megabytes long; without a cut its alert would pass Kafka's 1 MB record limit and
 * stall the processor, and no SIEM shows that much of one field anyway.
 */
export const MAX_OUTPUT_CHARS = 65_536
export const MAX_OUTPUT_FIELD_CHARS = 16_384

/** Builds the alert record of one match, shaped like Falco's JSON alert plus the event's position. */
export function buildAlert(match: RuleMatch, event: SyscallEvent, position: EventPosition): Alert {
  return {
    time: formatEventTime(event.ts_ns),
    ts_ns: event.ts_ns,
    rule: match.rule,
    priority: match.priority,
    output: cutText(
      `${formatOutputTime(event.ts_ns)}: ${match.priority} ${match.output}`,
      MAX_OUTPUT_CHARS,
    ),
    // Falco's output starts with %evt.time, so its output_fields always carry evt.time.
    output_fields: { 'evt.time': event.ts_ns, ...cutFieldValues(match.outputFields) },
    hostname: event.hostname,
    source: match.source,
    tags: match.tags,
    event: {
      topic: position.topic,
      partition: position.partition,
      offset: toInt64(BigInt(position.offset)),
      num: event.num,
      type: event.type,
    },
  }
}

/**
 * Formats nanoseconds since the epoch as RFC 3339 in UTC with nine fraction digits, the way Falco
 * writes the `time` of an alert (2016-08-04T16:17:57.882054739Z).
 */
export function formatEventTime(tsNs: Int64): string {
  const nanos = BigInt(tsNs)
  let seconds = nanos / NANOS_PER_SECOND
  let fraction = nanos % NANOS_PER_SECOND
  if (fraction < 0n) {
    fraction += NANOS_PER_SECOND
    seconds -= 1n
  }
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19)
  return `${whole}.${fraction.toString().padStart(9, '0')}Z`
}

/**
 * Formats the time prefix Falco puts before every alert's output text: the UTC time of day with
 * nine fraction digits (16:17:57.882054739).
 */
export function formatOutputTime(tsNs: Int64): string {
  return formatEventTime(tsNs).slice(11, 29)
}

/** Cuts text to `maxChars`, saying how much was cut. */
export function cutText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text
  return `${text.slice(0, maxChars)}...[${text.length - maxChars} more characters]`
}

function cutFieldValues(
  fields: Record<string, OutputFieldValue>,
): Record<string, OutputFieldValue> {
  const cut: Record<string, OutputFieldValue> = {}
  for (const [name, value] of Object.entries(fields)) {
    cut[name] = typeof value === 'string' ? cutText(value, MAX_OUTPUT_FIELD_CHARS) : value
  }
  return cut
}

function toInt64(value: bigint): Int64 {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
}
