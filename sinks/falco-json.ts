import { toJsonText } from '../core/json.js'
import type { Alert, OutputFieldValue } from '../schemas/types.js'

/** An alert in Falco's JSON output shape (json_output: true), the format most tools expect. */
export interface FalcoJsonAlert {
  hostname: string
  output: string
  output_fields: Record<string, OutputFieldValue>
  priority: string
  rule: string
  source: string
  tags: string[]
  time: string
}

/** Returns the Falco-shaped object of an alert; Peregrine's event reference is left out. */
export function toFalcoJsonAlert(alert: Alert): FalcoJsonAlert {
  return {
    hostname: alert.hostname,
    output: alert.output,
    output_fields: alert.output_fields,
    priority: alert.priority,
    rule: alert.rule,
    source: alert.source,
    tags: alert.tags,
    time: alert.time,
  }
}

/**
 * Formats one alert as one line of Falco JSON. 64-bit values keep all their digits, and every control
 * character in attacker-controlled strings is escaped by JSON, so the alert stays on one line.
 */
export function toFalcoJsonLine(alert: Alert): string {
  return toJsonText(toFalcoJsonAlert(alert))
}
