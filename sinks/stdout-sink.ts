import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { DeliveryFailure, SinkDestination } from '../core/sink-runner.js'
import type { Alert } from '../schemas/types.js'
import { toFalcoJsonLine } from './falco-json.js'

export const STDOUT_FORMATS = ['json', 'text'] as const
export type StdoutFormat = (typeof STDOUT_FORMATS)[number]

/** Alerts handed to one write; the stream buffers them anyway. */
const STDOUT_BATCH_ALERTS = 500

/**
 * Writes each alert as one line to a stream, stdout by default: Falco JSON, or Falco's text line
 * (the alert's output, which starts with the time and the priority). The rule engine has already escaped every non-printable byte of
 * the output text, so a text alert is one line as well.
 */
export class StdoutSink implements SinkDestination {
  readonly name = 'stdout'
  readonly maxBatchAlerts = STDOUT_BATCH_ALERTS
  private readonly stream: Writable
  private readonly format: StdoutFormat

  constructor(options: { stream?: Writable; format?: StdoutFormat } = {}) {
    this.stream = options.stream ?? process.stdout
    this.format = options.format ?? 'json'
  }

  async deliver(alerts: Alert[], signal: AbortSignal): Promise<DeliveryFailure[]> {
    const text = alerts.map((alert) => `${this.formatAlert(alert)}\n`).join('')
    // A reader that stopped reading (a full pipe) must not keep the sink from shutting down.
    if (!this.stream.write(text)) await once(this.stream, 'drain', { signal })
    return []
  }

  private formatAlert(alert: Alert): string {
    if (this.format === 'json') return toFalcoJsonLine(alert)
    return alert.output.replace(/[\r\n]/g, ' ')
  }
}
