import { Counter, Histogram } from 'prom-client'
import type { Registry } from 'prom-client'
import { oncePerRegistry } from './metrics.js'

/** Fixed outcome values of a delivery, shared by metrics and logs. */
export type DeliveryOutcome = 'ok' | 'retried' | 'rate_limited' | 'dropped' | 'failed'

export type SinkMetrics = ReturnType<typeof createSinkMetrics>

/** Metrics of the shared sink runner, labelled by sink; created once per registry. */
export const createSinkMetrics = oncePerRegistry((registry: Registry) => ({
  alertsConsumed: new Counter({
    name: 'peregrine_sink_alerts_consumed_total',
    help: 'Alert records read from the alerts topic.',
    labelNames: ['sink'] as const,
    registers: [registry],
  }),
  alertsFiltered: new Counter({
    name: 'peregrine_sink_alerts_filtered_total',
    help: 'Alerts skipped because their priority is below the sink minimum.',
    labelNames: ['sink'] as const,
    registers: [registry],
  }),
  deliveries: new Counter({
    name: 'peregrine_sink_deliveries_total',
    help: 'Alerts by delivery outcome: ok, retried (an attempt failed and will be retried), failed (sent to the dead-letter topic).',
    labelNames: ['sink', 'outcome'] as const,
    registers: [registry],
  }),
  deadLettered: new Counter({
    name: 'peregrine_sink_alerts_dead_lettered_total',
    help: 'Alert records sent to the sink dead-letter topic, by stage that failed.',
    labelNames: ['sink', 'stage'] as const,
    registers: [registry],
  }),
  deliveryDuration: new Histogram({
    name: 'peregrine_sink_delivery_duration_seconds',
    help: 'Duration of one delivery attempt of a batch.',
    labelNames: ['sink'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  }),
}))
