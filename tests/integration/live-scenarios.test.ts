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
import { integrationConfig, waitFor } from '../support/harness.js'
import { collectTopic, liveProbeSkip, startLiveProducer } from '../support/live-pipeline.js'
import type { LiveProducer, TopicCollector } from '../support/live-pipeline.js'
import { missingUpstream, upstreamPath } from '../support/upstream.js'

const STABLE_RULES = upstreamPath('falco-rules', 'falco_rules.yaml')
const INCUBATING_RULES = upstreamPath('falco-rules', 'falco-incubating_rules.yaml')
const skip = liveProbeSkip() || missingUpstream(STABLE_RULES, INCUBATING_RULES) || false

/** Maximum wait for the alerts of every scenario once they all ran. */
const ALERT_DEADLINE_MS = 60_000
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
  let outcomes: ScenarioOutcome[] = []

  before(async () => {
    // Given the probe tracing what the unmodified upstream rules read, and a processor with them
    const rules = loadRuleSet([STABLE_RULES, INCUBATING_RULES], { minPriority: 'debug' })
    const logger = silentLogger()
    processor = await startProcessor({
      config,
      logger,
      metricsRegistry: createMetricsRegistry(),
      rules,
    })
    alerts = await collectTopic(config, config.topics.alerts, ALERT_SCHEMA, (alert) =>
      scenarioRules.has((alert as Alert).rule),
    )
    producer = startLiveProducer(config, selectSyscalls(rules.eventTypes()).syscalls)
    await producer.ready

    // When every scenario runs once
    outcomes = await runScenarios({ logger })
    const expected = outcomes.filter((outcome) => outcome.status === 'ran')
    await waitFor(
      'an alert for every scenario that ran',
      () => expected.every((outcome) => findAlert(outcome) !== undefined),
      ALERT_DEADLINE_MS,
    ).catch(() => {
      // Each subtest then names the rule whose alert is missing.
    })
  })

  after(async () => {
    await producer?.stop()
    await processor?.close()
    await alerts?.stop()
  })

  function findAlert(outcome: ScenarioOutcome): Alert | undefined {
    return alerts.records.find(
      (alert) =>
        alert.rule === outcome.rule &&
        BigInt(alert.ts_ns) >= outcome.startedAtNs - CLOCK_TOLERANCE_NS,
    )
  }

  // Then each scenario's rule raised an alert after the scenario started
  for (const scenario of SCENARIOS) {
    it(scenario.rule, (t) => {
      const outcome = outcomes.find((candidate) => candidate.rule === scenario.rule)
      assert.ok(outcome, `scenario for ${scenario.rule} did not report`)
      if (outcome.status === 'skipped') return t.skip(outcome.reason)
      assert.equal(outcome.status, 'ran', outcome.reason)

      const alert = findAlert(outcome)
      assert.ok(alert, `no alert for "${scenario.rule}" after: ${scenario.action}`)
      assert.equal(alert.hostname, 'live-host')
      assert.equal(alert.source, 'syscall')
      assert.ok(alert.output.length > 0)
    })
  }
})
