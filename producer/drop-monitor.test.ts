import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it, mock } from 'node:test'
import { silentLogger } from '../core/logger.js'
import { createMetricsRegistry } from '../core/metrics.js'
import type { Alert } from '../schemas/types.js'
import { DropMonitor } from './drop-monitor.js'
import type { DropMonitorSettings } from './drop-monitor.js'
import { EbpfSource } from './ebpf-source.js'
import { FakeProbe } from './ebpf/fake-probe.js'
import { createProducerMetrics } from './metrics.js'
import { fakeProcReader } from './state/fake-proc-reader.js'

const FALCO_DEFAULTS: DropMonitorSettings = {
  threshold: 0.1,
  ratePerSecond: 0.03333,
  maxBurst: 1,
  intervalMs: 1000,
  hostname: 'node-1',
  eventsTopic: 'events',
}

/** Stops of the harnesses a test started, run after it even when an assert failed. */
const running: Array<() => Promise<void>> = []

interface Harness {
  probe: FakeProbe
  alerts: Alert[]
  publisherDrops: Record<string, number>
  monitor: DropMonitor
  metrics: ReturnType<typeof createProducerMetrics>
  stop: () => Promise<void>
}

/** Opens an EbpfSource on a fake probe and watches it with a monitor driven by fake timers. */
async function startHarness(settings: Partial<DropMonitorSettings> = {}): Promise<Harness> {
  const probe = new FakeProbe()
  const source = new EbpfSource({
    openProbe: probe.opener(),
    pollIntervalMs: 1,
    procReader: fakeProcReader([{ pid: 1, ppid: 0, comm: 'systemd' }]),
  })
  const controller = new AbortController()
  const reading = (async () => {
    // The fake probe hands out no records, so this loop only keeps the probe open.
    for await (const event of source.events(controller.signal)) assert.ok(event)
  })()
  while (probe.openedWith === null) await new Promise((resolve) => setImmediate(resolve))

  const alerts: Alert[] = []
  const publisherDrops: Record<string, number> = {}
  const metrics = createProducerMetrics(createMetricsRegistry())
  const monitor = new DropMonitor({
    settings: { ...FALCO_DEFAULTS, ...settings },
    readSourceStats: () => source.stats(),
    readPublisherDrops: () => publisherDrops,
    onAlert: (alert) => alerts.push(alert),
    metrics,
    logger: silentLogger(),
  })
  monitor.start()
  const stop = async (): Promise<void> => {
    monitor.stop()
    controller.abort()
    await reading
  }
  running.push(stop)
  return { probe, alerts, publisherDrops, monitor, metrics, stop }
}

/** Simulates one second in which the kernel wrote `written` records and lost `lost` to a full ring. */
function secondWithDrops(harness: Harness, written: number, lost: number): void {
  harness.probe.counters.emitted += written
  harness.probe.counters.ringFull += lost
  mock.timers.tick(1000)
}

async function counterValue(
  metric: { get: () => Promise<{ values: Array<{ value: number; labels: object }> }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get()
  const match = values.find((entry) =>
    Object.entries(labels).every(([name, value]) => (entry.labels as never)[name] === value),
  )
  return match?.value ?? 0
}

describe('DropMonitor', () => {
  beforeEach(() => {
    mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_700_000_000_000 })
  })

  afterEach(async () => {
    mock.timers.reset()
    for (const stop of running.splice(0)) await stop()
  })

  it('stays quiet at or below the threshold', async () => {
    const harness = await startHarness()

    secondWithDrops(harness, 90, 10)

    assert.equal(harness.alerts.length, 0)
    assert.equal(await counterValue(harness.metrics.kernelDrops, { cause: 'ring_full' }), 10)
    assert.equal(await counterValue(harness.metrics.kernelRecords), 90)
  })

  it('raises Falco-shaped alert above threshold', async () => {
    const harness = await startHarness()

    secondWithDrops(harness, 80, 20)

    assert.equal(harness.alerts.length, 1)
    const alert = harness.alerts[0]
    assert.equal(alert.rule, 'Falco internal: syscall event drop')
    assert.equal(alert.priority, 'Debug')
    assert.equal(alert.source, 'internal')
    assert.equal(alert.hostname, 'node-1')
    assert.equal(alert.time, '2023-11-14T22:13:21.000000000Z')
    assert.equal(
      alert.output,
      '22:13:21.000000000: Debug Falco internal: syscall event drop. 20 system calls dropped in last second. (ebpf_enabled="1" n_drops="20" n_drops_buffer_total="20" n_drops_stash_full="0" n_drops_userspace="0" n_evts="100")',
    )
    assert.equal(alert.output_fields.n_evts, '100')
    assert.equal(alert.event.partition, -1)
    assert.equal(alert.event.offset, -1)
  })

  it('limits alerts to one per 30 seconds by default', async () => {
    const harness = await startHarness()

    for (let second = 1; second <= 61; second++) secondWithDrops(harness, 50, 50)

    // One token at start, then 0.03333 per second: the bucket is full again after 30.003 s, so
    // the second alert comes at the check 31 s after the first.
    const seconds = harness.alerts.map((alert) =>
      Number((BigInt(alert.ts_ns) / 1_000_000_000n) % 1000n),
    )
    assert.deepEqual(seconds, [1, 32])
    assert.equal(await counterValue(harness.metrics.dropAlerts, { outcome: 'rate_limited' }), 59)
  })

  it('allows bursts up to maxBurst', async () => {
    const harness = await startHarness({ maxBurst: 3, ratePerSecond: 0 })

    for (let second = 1; second <= 10; second++) secondWithDrops(harness, 10, 90)

    assert.equal(harness.alerts.length, 3)
  })

  it('counts user-space drops toward the threshold', async () => {
    const harness = await startHarness()

    harness.publisherDrops.buffer_full = 30
    secondWithDrops(harness, 100, 0)

    assert.equal(harness.alerts.length, 1)
    assert.equal(harness.alerts[0].output_fields.n_drops_userspace, '30')
    assert.equal(harness.alerts[0].output_fields.n_drops, '30')
    assert.equal(harness.alerts[0].output_fields.n_evts, '100')
  })

  it('takes the threshold from its settings', async () => {
    const harness = await startHarness({ threshold: 0 })

    secondWithDrops(harness, 1000, 1)

    assert.equal(harness.alerts.length, 1)
  })

  it('reports events read per second', async () => {
    const harness = await startHarness()

    harness.probe.counters.stashFull += 4
    mock.timers.tick(1000)

    assert.equal(await counterValue(harness.metrics.kernelDrops, { cause: 'stash_full' }), 4)
    assert.equal(await counterValue(harness.metrics.eventsReadPerSecond), 0)
  })
})
