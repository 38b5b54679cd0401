import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { silentLogger } from '../../core/logger.js'
import { createMetricsRegistry } from '../../core/metrics.js'
import { EbpfSource } from '../../producer/ebpf-source.js'
import { FakeProbe } from '../../producer/ebpf/fake-probe.js'
import { runProducer } from '../../producer/main.js'
import { fakeProcReader } from '../../producer/state/fake-proc-reader.js'
import { ALERT_SCHEMA } from '../../schemas/index.js'
import type { Alert } from '../../schemas/types.js'
import { integrationConfig, waitFor } from '../support/harness.js'
import { collectTopic } from '../support/live-pipeline.js'
import type { TopicCollector } from '../support/live-pipeline.js'

describe('syscall event drop alert on the real broker', () => {
  const config = integrationConfig({
    'producer.hostname': 'drop-host',
    'producer.dropCheckIntervalMs': '100',
  })
  let alerts: TopicCollector<Alert>

  before(async () => {
    alerts = await collectTopic(config, config.topics.alerts, ALERT_SCHEMA, () => true)
  })

  after(async () => {
    await alerts.stop()
  })

  it('publishes Falco-shaped drop alert', async () => {
    // Given a live source whose kernel lost a third of its records
    const probe = new FakeProbe()
    const source = new EbpfSource({
      hostname: 'drop-host',
      openProbe: probe.opener(),
      pollIntervalMs: 1,
      containerMetadata: null,
      procReader: fakeProcReader([{ pid: 1, ppid: 0, comm: 'systemd' }]),
    })
    const controller = new AbortController()
    const producing = runProducer({
      config,
      logger: silentLogger(),
      metricsRegistry: createMetricsRegistry(),
      source,
      signal: controller.signal,
    })
    await waitFor('the fake probe to open', () => probe.openedWith !== null)

    // When the drop counters move
    probe.counters.emitted += 200
    probe.counters.ringFull += 100

    // Then one drop alert reaches the alerts topic
    try {
      await waitFor('a drop alert on the alerts topic', () => alerts.records.length > 0)
    } finally {
      controller.abort()
      await producing
    }
    const alert = alerts.records[0]
    assert.equal(alert.rule, 'Falco internal: syscall event drop')
    assert.equal(alert.priority, 'Debug')
    assert.equal(alert.source, 'internal')
    assert.equal(alert.hostname, 'drop-host')
    assert.match(
      alert.output,
      /^\d\d:\d\d:\d\d\.\d{9}: Debug Falco internal: syscall event drop\. 100 system calls dropped in last second\. \(ebpf_enabled="1" n_drops="100" n_drops_buffer_total="100" /,
    )
    assert.equal(alert.output_fields.n_evts, '300')
    assert.equal(alert.event.partition, -1)
  })
})
