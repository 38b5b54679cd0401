import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { DeliveryFailure, SinkDestination } from '../core/sink-runner.js'
import type { Alert } from '../schemas/types.js'
import { toFalcoJsonLine } from './falco-json.js'

/** Alerts handed to one write; the stream buffers them anyway. */
const STDOUT_BATCH_ALERTS = 500

/** Writes each alert as one line of Falco JSON to a stream, stdout by default. */
export class StdoutSink implements SinkDestination {
  readonly name = 'stdout'
  readonly maxBatchAlerts = STDOUT_BATCH_ALERTS
  private readonly stream: Writable

  constructor(stream: Writable = process.stdout) {
    this.stream = stream
  }

  async deliver(alerts: Alert[]): Promise<DeliveryFailure[]> {
    const text = alerts.map((alert) => `${toFalcoJsonLine(alert)}\n`).join('')
    if (!this.stream.write(text)) await once(this.stream, 'drain')
    return []
  }
}
