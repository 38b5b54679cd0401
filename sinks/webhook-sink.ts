import { isRetriable } from '../core/errors.js'
import { expectSuccess, sendHttpRequest } from '../core/http-client.js'
import type { DeliveryFailure, SinkDestination } from '../core/sink-runner.js'
import type { Alert } from '../schemas/types.js'
import { toFalcoJsonLine } from './falco-json.js'

export interface WebhookSettings {
  url: string
  headers: Record<string, string>
  timeoutMs: number
  verifyTls: boolean
  userAgent: string
}

/** Alerts posted one after another within one delivery call. */
const WEBHOOK_BATCH_ALERTS = 50

/**
 * POSTs each alert as one Falco JSON document to a URL, as Falco's http_output and falcosidekick's
 * webhook output do. A 2xx status accepts the alert. Failures are classified by the HTTP client:
 * 408, 429, 5xx, timeouts and resets are retriable, other statuses are not.
 */
export class WebhookSink implements SinkDestination {
  readonly name = 'webhook'
  readonly maxBatchAlerts = WEBHOOK_BATCH_ALERTS
  private readonly settings: WebhookSettings

  constructor(settings: WebhookSettings) {
    this.settings = settings
  }

  async deliver(alerts: Alert[], signal: AbortSignal): Promise<DeliveryFailure[]> {
    const failures: DeliveryFailure[] = []
    for (const [index, alert] of alerts.entries()) {
      try {
        await this.post(alert, signal)
      } catch (error) {
        if (signal.aborted) throw error
        if (!isRetriable(error)) {
          failures.push({ index, error })
          continue
        }
        // The endpoint is overloaded or down: the rest of the batch waits for the retry too,
        // instead of meeting the same 429 or outage one request at a time.
        failures.push({ index, error })
        for (let rest = index + 1; rest < alerts.length; rest++)
          failures.push({ index: rest, error, attempted: false })
        break
      }
    }
    return failures
  }

  private async post(alert: Alert, signal: AbortSignal): Promise<void> {
    const response = await sendHttpRequest({
      url: this.settings.url,
      headers: {
        'content-type': 'application/json',
        'user-agent': this.settings.userAgent,
        ...this.settings.headers,
      },
      body: toFalcoJsonLine(alert),
      timeoutMs: this.settings.timeoutMs,
      verifyTls: this.settings.verifyTls,
      signal,
    })
    expectSuccess(response, 'posting alert to webhook')
  }
}
