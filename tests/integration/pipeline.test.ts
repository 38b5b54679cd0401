import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { silentLogger } from '../../core/logger.js'
import { createMetricsRegistry } from '../../core/metrics.js'
import { startProcessor } from '../../processors/main.js'
import { DEFAULT_RULES_FILE } from '../../processors/rules-loader.js'
import { loadRuleSet } from '../../processors/rules/index.js'
import { runProducer } from '../../producer/main.js'
import { createEventSource } from '../../producer/source-factory.js'
import { PROJECT_ROOT } from '../../schemas/index.js'
import { startSink } from '../../sinks/main.js'
import { WebhookSink } from '../../sinks/webhook-sink.js'
import { integrationConfig, waitFor } from '../support/harness.js'
import { MockWebhook } from '../support/mock-webhook.js'
import { missingUpstream, upstreamPath } from '../support/upstream.js'

interface ChainResult {
  eventsPublished: number
  countsByRule: Record<string, number>
  alerts: Array<Record<string, unknown>>
}

const FALCO_JSON_KEYS = [
  'hostname',
  'output',
  'output_fields',
  'priority',
  'rule',
  'source',
  'tags',
  'time',
]

/**
 * Runs source -> events topic -> processor -> alerts topic -> webhook sink on the real broker and
 * registry, and returns what the loopback webhook received once every event is evaluated and every
 * alert delivered.
 */
async function runChain(
  webhook: MockWebhook,
  sourceSpec: string,
  rulesFiles: string[],
  minPriority = 'debug',
): Promise<ChainResult> {
  const config = integrationConfig({ 'sink.webhookUrl': webhook.url })
  const metricsRegistry = createMetricsRegistry()
  const logger = silentLogger()
  const rules = loadRuleSet(rulesFiles, { minPriority })
  const receivedBefore = webhook.accepted().length

  const processor = await startProcessor({ config, logger, metricsRegistry, rules })
  const destination = new WebhookSink({
    url: webhook.url,
    headers: {},
    timeoutMs: 5000,
    verifyTls: true,
    userAgent: 'peregrine/test',
  })
  const sink = await startSink({ config, logger, metricsRegistry, destination })
  try {
    const source = createEventSource(sourceSpec, { hostname: 'capture-host', logger })
    const published = await runProducer({
      config,
      logger,
      metricsRegistry,
      source,
      signal: new AbortController().signal,
    })

    await waitFor(
      'the processor to finish the published events',
      () => processor.stats().eventsCompleted >= published.eventsPublished,
    )
    const raised = Object.values(processor.stats().alertsByRule).reduce(
      (sum, count) => sum + count,
      0,
    )
    await waitFor(
      `${raised} alerts at the webhook`,
      () => webhook.accepted().length - receivedBefore >= raised,
    )

    const alerts = webhook.accepted().slice(receivedBefore) as Array<Record<string, unknown>>
    const countsByRule: Record<string, number> = {}
    for (const alert of alerts)
      countsByRule[alert.rule as string] = (countsByRule[alert.rule as string] ?? 0) + 1
    return { eventsPublished: published.eventsPublished, countsByRule, alerts }
  } finally {
    await sink.close()
    await processor.close()
  }
}

describe('pipeline from source to webhook on the real broker', () => {
  let webhook: MockWebhook

  before(async () => {
    webhook = await new MockWebhook().start()
  })

  after(async () => {
    await webhook.close()
  })

  it('raises each default rule once on the sample session', async () => {
    const session = `${PROJECT_ROOT}/producer/samples/demo-session.jsonl`

    const result = await runChain(webhook, `events:${session}`, [DEFAULT_RULES_FILE])

    assert.equal(result.eventsPublished, 53)
    assert.deepEqual(result.countsByRule, {
      'Terminal shell in container': 1,
      'Write below binary dir': 1,
      'Create files below dev': 1,
    })
    for (const alert of result.alerts) {
      assert.deepEqual(Object.keys(alert).sort(), FALCO_JSON_KEYS)
      assert.equal(alert.hostname, 'demo-node-1')
      assert.equal(alert.source, 'syscall')
      assert.match(alert.time as string, /^2026-03-10T09:15:\d\d\.\d{9}Z$/)
      assert.equal((alert.output_fields as Record<string, unknown>)['container.id'], '4c1fd2a9e83b')
    }
  })

  const catWrite = upstreamPath('traces', 'falco', 'cat_write.scap')
  const singleRule = upstreamPath('falco-tests', 'rules', 'single_rule.yaml')
  const doubleRule = upstreamPath('falco-tests', 'rules', 'double_rule.yaml')
  const regexNamedRule = upstreamPath('falco-tests', 'rules', 'rule_names_with_regex_chars.yaml')

  // Falco's regression case multiple_rules_suppress_info expects open_from_cat 8, exec_from_cat 1
  // and access_from_cat 0. Falco then counted the enter and the exit event of each of cat's 4 opens;
  // Peregrine receives exit events only, so 4 is the same detections.
  it(
    'matches Falco counts for multiple_rules_suppress_info on cat_write.scap',
    { skip: missingUpstream(catWrite, singleRule, doubleRule) },
    async () => {
      const result = await runChain(
        webhook,
        `capture:${catWrite}`,
        [singleRule, doubleRule],
        'warning',
      )

      assert.deepEqual(result.countsByRule, { open_from_cat: 4, exec_from_cat: 1 })
      const exec = result.alerts.find((alert) => alert.rule === 'exec_from_cat')
      assert.equal(exec?.priority, 'Error')
      assert.match(
        exec?.output as string,
        /^16:17:57\.\d{9}: Error An exec was seen \(command=cat \/dev\/null\)$/,
      )
    },
  )

  // Falco's rule_names_with_regex_chars expects 8 (enter and exit events); 4 exit events here.
  it(
    'keeps a rule name full of regex characters on cat_write.scap',
    { skip: missingUpstream(catWrite, regexNamedRule) },
    async () => {
      const result = await runChain(webhook, `capture:${catWrite}`, [regexNamedRule])

      assert.deepEqual(result.countsByRule, { 'Open From Cat ($\\.*+?()[]{}|^)': 4 })
    },
  )

  const privileged = upstreamPath('traces', 'falco', 'psp', 'privileged.scap')
  const legacyRules = upstreamPath('falco-rules', 'legacy', 'falco_rules.yaml')

  it(
    'raises Launch Privileged Container with Falco rules on privileged.scap',
    { skip: missingUpstream(privileged, legacyRules) },
    async () => {
      const result = await runChain(webhook, `capture:${privileged}`, [legacyRules])

      assert.deepEqual(result.countsByRule, { 'Launch Privileged Container': 1 })
      const fields = result.alerts[0].output_fields as Record<string, unknown>
      assert.equal(fields['container.image.repository'], 'nginx')
      assert.equal(fields['container.image.tag'], 'latest')
    },
  )
})
