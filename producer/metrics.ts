import { Counter, Gauge, Histogram } from 'prom-client'
import type { Registry } from 'prom-client'
import { oncePerRegistry } from '../core/metrics.js'

export type ProducerMetrics = ReturnType<typeof createProducerMetrics>

/** The producer's metrics, created once per registry. */
export const createProducerMetrics = oncePerRegistry((registry: Registry) => ({
  eventsRead: new Counter({
    name: 'peregrine_producer_events_read_total',
    help: 'Events read from the source.',
    registers: [registry],
  }),
  eventsPublished: new Counter({
    name: 'peregrine_producer_events_published_total',
    help: 'Events acknowledged by Kafka on the events topic.',
    registers: [registry],
  }),
  eventsDeadLettered: new Counter({
    name: 'peregrine_producer_events_dead_lettered_total',
    help: 'Events sent to the events dead-letter topic, by stage that failed.',
    labelNames: ['stage'] as const,
    registers: [registry],
  }),
  eventsDropped: new Counter({
    name: 'peregrine_producer_events_dropped_total',
    help: 'Events lost in user space, by reason: buffer_full (Kafka behind a live source), decode_truncated and unknown_record (probe records the decoder could not read).',
    labelNames: ['reason'] as const,
    registers: [registry],
  }),
  eventsReadPerSecond: new Gauge({
    name: 'peregrine_producer_events_read_per_second',
    help: 'Events read from a live source per second, over the last drop check interval.',
    registers: [registry],
  }),
  kernelRecords: new Counter({
    name: 'peregrine_producer_kernel_records_total',
    help: 'Records the eBPF probe wrote to its ring buffer.',
    registers: [registry],
  }),
  kernelDrops: new Counter({
    name: 'peregrine_producer_kernel_drops_total',
    help: 'Records the eBPF probe lost in the kernel, by cause: ring_full (user space read too slowly) and stash_full (too many threads inside traced syscalls at once).',
    labelNames: ['cause'] as const,
    registers: [registry],
  }),
  dropAlerts: new Counter({
    name: 'peregrine_producer_drop_alerts_total',
    help: 'Syscall event drop alerts, by outcome: ok (published), rate_limited (token bucket empty) or failed (publishing failed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  bufferedEvents: new Gauge({
    name: 'peregrine_producer_buffered_events',
    help: 'Events read from the source and not yet acknowledged by Kafka.',
    registers: [registry],
  }),
  bytesPublished: new Counter({
    name: 'peregrine_producer_published_bytes_total',
    help: 'Encoded bytes of events acknowledged by Kafka, before compression.',
    registers: [registry],
  }),
  batchDuration: new Histogram({
    name: 'peregrine_producer_batch_duration_seconds',
    help: 'Time from sending a batch of events to its acknowledgement.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
}))
