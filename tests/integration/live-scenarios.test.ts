import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { silentLogger } from '../../core/logger.js'
import { createMetricsRegistry } from '../../core/metrics.js'
import { startProcessor } from '../../processors/main.js'
import type { RunningProcessor } from '../../processors/main.js'
import { loadRuleSet } from '../../processors/rules/index.js'
import { selectSyscalls } from '../../producer/ebpf/syscall-selection.js'
import { runScenarios } from '../../producer/scenarios/scenario-runner.js'
import type { ScenarioOutcome } from '../../producer/scenarios/scenario-runner.js'
import { SCENARIOS } from '../../producer/scenarios/scenarios.js'
import { ALERT_SCHEMA } from '../../schemas/index.js'
import type { Alert } from '../../schemas/types.js'
import { integrationConfig, waitUntil } from '../support/harness.js'
import {
  assertDecodable,
  catchUp,
  collectTopic,
  liveProbeSkip,
  startLiveProducer,
  totalDrops,
} from '../support/live-pipeline.js'
import type { LiveProducer, TopicCollector } from '../support/live-pipeline.js'
import { missingUpstream, upstreamPath } from '../support/upstream.js'

const STABLE_RULES = upstreamPath('falco-rules', 'falco_rules.yaml')
const INCUBATING_RULES = upstreamPath('falco-rules', 'falco-incubating_rules.yaml')
const skip = liveProbeSkip() || missingUpstream(STABLE_RULES, INCUBATING_RULES) || false

/**
 * Maximum wait for the alerts of every scenario once they all ran, before the processor's progress
 * is checked. On a quiet host the scenarios' events reach the processor well within it.
 */
const ALERT_DEADLINE_MS = 30_000
/**
 * A busy host makes the probe drop events by design, the scenarios' own among them. Scenarios
 * whose alert is missing run again, up to this many runs in all, while drops are counted.
 */
const MAX_ROUNDS = 4
/** Maximum wait for the alerts of scenarios that ran again, before the same check. */
const RETRY_DEADLINE_MS = 15_000
/** Maximum time for all runs and waits, inside the test command's limit per suite. */
const SCENARIOS_DEADLINE_MS = 150_000
/**
 * Event times are the boot clock plus the wall-clock time at boot, estimated when the probe opens,
 * so they may differ from Date.now() by a few milliseconds. Alerts count from this long before
 * their scenario started.
 */
const CLOCK_TOLERANCE_NS = 1_000_000_000n

describe('scenarios through the live pipeline', { skip }, () => {
  const config = integrationConfig()
  const scenarioRules = new Set(SCENARIOS.map((scenario) => scenario.rule))
  let producer: LiveProducer
  let processor: RunningProcessor
  let alerts: TopicCollector<Alert>
  const metricsRegistry = createMetricsRegistry()
  let outcomes: ScenarioOutcome[] = []
  /** Events the pipeline dropped while the scenarios ran, on a host busier than it can carry. */
  let droppedEvents = 0
  /** The alerts collector's description when an alert was last found missing. */
  let alertsState = ''

  before(async () => {
    // Given the probe tracing what the unmodified upstream rules read, and a processor with them
    const rules = loadRuleSet([STABLE_RULES, INCUBATING_RULES], { minPriority: 'debug' })
    const logger = silentLogger()
    processor = await startProcessor({
      config,
      logger,
      metricsRegistry,
      rules,
    })
    alerts = await collectTopic(config, config.topics.alerts, ALERT_SCHEMA, (alert) =>
      scenarioRules.has((alert as Alert).rule),
    )
    producer = startLiveProducer(config, selectSyscalls(rules.eventTypes()).syscalls)
    await producer.ready

    // When every scenario runs once, and again while its alert is missing and events were dropped
    let dropsBefore = totalDrops(await producer.drops())
    const deadline = Date.now() + SCENARIOS_DEADLINE_MS
    outcomes = await runScenarios({ logger })
    for (let round = 1; ; round++) {
      const roundWait = round === 1 ? ALERT_DEADLINE_MS : RETRY_DEADLINE_MS
      await waitUntil(
        () => missingAlerts().length === 0,
        Math.min(Date.now() + roundWait, deadline),
      )
      // A processor behind a busy producer has not evaluated the scenarios' events yet.
      const published = await producer.published()
      await waitUntil(
        () => missingAlerts().length === 0 || processor.stats().eventsCompleted >= published,
        deadline,
      )
      await catchUp(alerts, () => missingAlerts().length === 0, deadline)
      const missing = missingAlerts()
      const drops = totalDrops(await producer.drops())
      droppedEvents += drops - dropsBefore
      if (missing.length > 0) alertsState = await alerts.describe()
      if (missing.length === 0 || drops === dropsBefore) break
      if (round === MAX_ROUNDS || Date.now() >= deadline) break
      dropsBefore = drops
      const rerun = new Set(missing.map((outcome) => outcome.rule))
      const again = await runScenarios({
        logger,
        scenarios: SCENARIOS.filter((scenario) => rerun.has(scenario.rule)),
      })
      outcomes = outcomes.map((outcome) => again.find((a) => a.rule === outcome.rule) ?? outcome)
    }
  })

  after(async () => {
    await producer?.stop()
    await processor?.close()
    await alerts?.stop()
  })

  function missingAlerts(): ScenarioOutcome[] {
    return outcomes.filter(
      (outcome) => outcome.status === 'ran' && findAlert(outcome) === undefined,
    )
  }

  function findAlert(outcome: ScenarioOutcome): Alert | undefined {
    return alerts.records.find(
      (alert) =>
        alert.rule === outcome.rule &&
        BigInt(alert.ts_ns) >= outcome.startedAtNs - CLOCK_TOLERANCE_NS,
    )
  }

  // Then every event and alert decodes, because records that a consumer cannot read go to the
  // dead-letter topic
  it('decodes every event and alert', async () => {
    const deadLettered = await metricsRegistry
      .getSingleMetric('peregrine_processor_events_dead_lettered_total')
      ?.get()
    const undecodedEvents = (deadLettered?.values ?? [])
      .filter(({ labels }) => labels.stage === 'decode')
      .reduce((sum, { value }) => sum + value, 0)
    assert.equal(undecodedEvents, 0, 'live events the processor could not decode')
    assertDecodable(alerts)
  })

  // Then each scenario's rule raised an alert after the scenario started
  for (const scenario of SCENARIOS) {
    it(scenario.rule, (t) => {
      const outcome = outcomes.find((candidate) => candidate.rule === scenario.rule)
      assert.ok(outcome, `scenario for ${scenario.rule} did not report`)
      if (outcome.status === 'skipped') return t.skip(outcome.reason)
      assert.equal(outcome.status, 'ran', outcome.reason)

      const alert = findAlert(outcome)
      assert.ok(
        alert,
        `no alert for "${scenario.rule}" after: ${scenario.action} (${droppedEvents} events ` +
          `dropped; alerts topic: ${alertsState})`,
      )
      assert.equal(alert.hostname, 'live-host')
      assert.equal(alert.source, 'syscall')
      assert.ok(alert.output.length > 0)
    })
  }
})
