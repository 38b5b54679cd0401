import { Counter, Histogram } from 'prom-client'
import type { Registry } from 'prom-client'
import { oncePerRegistry } from '../core/metrics.js'

export type ProcessorMetrics = ReturnType<typeof createProcessorMetrics>

/** The rule processor's metrics, created once per registry. */
export const createProcessorMetrics = oncePerRegistry((registry: Registry) => ({
  eventsConsumed: new Counter({
    name: 'peregrine_processor_events_consumed_total',
    help: 'Event records read from the events topic.',
    registers: [registry],
  }),
  eventsDeadLettered: new Counter({
    name: 'peregrine_processor_events_dead_lettered_total',
    help: 'Event records sent to the events dead-letter topic, by stage that failed.',
    labelNames: ['stage'] as const,
    registers: [registry],
  }),
  ruleMatches: new Counter({
    name: 'peregrine_processor_rule_matches_total',
    help: 'Alerts raised, by rule.',
    labelNames: ['rule_id', 'priority'] as const,
    registers: [registry],
  }),
  batchDuration: new Histogram({
    name: 'peregrine_processor_batch_duration_seconds',
    help: 'Time to decode, evaluate and write the alerts of one batch of events, until acknowledged.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
}))
