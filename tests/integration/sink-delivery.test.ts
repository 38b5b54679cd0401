import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Producer } from 'kafkajs'
import { AvroCodec, createSchemaRegistry } from '../../core/avro-codec.js'
import { readDeadLetterHeaders, DEAD_LETTER_HEADERS } from '../../core/dead-letter.js'
import { createKafkaClient, createProducer, ensureTopics } from '../../core/kafka.js'
import { silentLogger } from '../../core/logger.js'
import { createMetricsRegistry } from '../../core/metrics.js'
import type { PeregrineConfig } from '../../core/peregrine-config.js'
import { ALERT_SCHEMA } from '../../schemas/index.js'
import type { Alert } from '../../schemas/types.js'
import { startSink } from '../../sinks/main.js'
import type { RunningSink } from '../../sinks/main.js'
import { WebhookSink } from '../../sinks/webhook-sink.js'
import { integrationConfig, readRecords, waitFor } from '../support/harness.js'
import { MockWebhook } from '../support/mock-webhook.js'

function sampleAlert(rule: string, priority = 'Warning'): Alert {
  return {
    time: '2026-12-04T10:00:00.000000001Z',
    ts_ns: 1796378400000000001n,
    rule,
    priority,
    output: `10:00:00.000000001: ${priority} ${rule} (proc.cmdline=sh -c "echo \\u001b[31m")`,
    output_fields: {
      'proc.cmdline': 'sh -c "echo \u001b[31m"',
      'proc.pid': 42,
      'evt.rawtime': 1796378400000000001n,
      'fd.name': null,
    },
    hostname: 'node-1',
    source: 'syscall',
    tags: ['container', 'shell'],
    event: { topic: 'peregrine.events.v1', partition: 0, offset: 7, num: 99, type: 'execve' },
  }
}

describe('webhook sink on the real broker', () => {
  let config: PeregrineConfig
  let webhook: MockWebhook
  let producer: Producer
  let codec: AvroCodec<Alert>
  let sink: RunningSink | undefined

  before(async () => {
    webhook = await new MockWebhook().start()
    config = integrationConfig({
      'sink.webhookUrl': webhook.url,
      'sink.maxAttempts': '6',
      'sink.requestTimeoutMs': '300',
      'sink.minPriority': 'notice',
    })
    const client = createKafkaClient(config, 'test', silentLogger())
    await ensureTopics(client, config, [config.topics.alerts])
    codec = await AvroCodec.register<Alert>(
      createSchemaRegistry(config.registry),
      `${config.topics.alerts}-value`,
      ALERT_SCHEMA,
    )
    producer = createProducer(client)
    await producer.connect()
  })

  after(async () => {
    await sink?.close()
    await producer.disconnect()
    await webhook.close()
  })

  async function startWebhookSink(): Promise<RunningSink> {
    const destination = new WebhookSink({
      url: webhook.url,
      headers: { 'x-test': 'yes' },
      timeoutMs: config.sink.requestTimeoutMs,
      verifyTls: true,
      userAgent: 'peregrine/test',
    })
    return await startSink({
      config,
      logger: silentLogger(),
      metricsRegistry: createMetricsRegistry(),
      destination,
    })
  }

  it('delivers through faults, filters low priorities and dead-letters the rest', async () => {
    // Given a webhook that rate-limits, fails, hangs and resets before it accepts,
    // then rejects one alert as a bad request.
    webhook.failNext(
      { kind: 'status', status: 429, retryAfter: '1', body: 'rate limited' },
      { kind: 'status', status: 503 },
      { kind: 'hang' },
      { kind: 'reset' },
    )
    const alerts = [
      sampleAlert('First'),
      sampleAlert('Too quiet', 'Informational'),
      sampleAlert('Second', 'Critical'),
    ]
    await producer.send({
      topic: config.topics.alerts,
      messages: alerts.map((alert) => ({ key: 'node-1', value: codec.encode(alert) })),
    })
    await producer.send({
      topic: config.topics.alerts,
      messages: [{ key: 'node-1', value: Buffer.from('{"not":"avro"}') }],
    })

    // When the sink runs
    sink = await startWebhookSink()

    // Then both alerts above the minimum arrive, as Falco JSON on one line each
    await waitFor('two delivered alerts', () => webhook.accepted().length >= 2)
    const received = webhook.accepted() as Array<{
      rule: string
      output_fields: Record<string, unknown>
    }>
    assert.deepEqual(received.map((alert) => alert.rule).sort(), ['First', 'Second'])
    assert.equal(received[0].output_fields['proc.cmdline'], 'sh -c "echo \u001b[31m"')
    assert.equal(webhook.received[0].body.includes('\n'), false)
    assert.match(webhook.received[0].body, /"evt\.rawtime":1796378400000000001/)
    assert.equal(webhook.received[0].headers['x-test'], 'yes')

    // And the record that is not Avro lands on the sink's dead-letter topic with its reason
    const [dead] = await readRecords(config, `${config.topics.alertsDeadLetterPrefix}webhook`, 1)
    const headers = readDeadLetterHeaders(dead.headers as Record<string, unknown>)
    assert.equal(dead.value?.toString(), '{"not":"avro"}')
    assert.equal(headers[DEAD_LETTER_HEADERS.stage], 'decode')
    assert.match(headers[DEAD_LETTER_HEADERS.reason], /not Confluent-framed Avro/)

    await waitFor(
      'sink counts',
      () => sink?.stats().delivered === 2 && sink?.stats().filtered === 1,
    )
  })

  it('dead-letters an alert the endpoint keeps rejecting, with the last error', async () => {
    // Given a webhook that returns 400 for the next alert
    webhook.failNext({ kind: 'status', status: 400, body: 'invalid payload' })

    // When one more alert arrives
    await producer.send({
      topic: config.topics.alerts,
      messages: [{ key: 'node-1', value: codec.encode(sampleAlert('Rejected')) }],
    })

    // Then it is not retried but written to the dead-letter topic with the HTTP status
    const records = await readRecords(config, `${config.topics.alertsDeadLetterPrefix}webhook`, 2)
    const headers = readDeadLetterHeaders(records[1].headers as Record<string, unknown>)
    assert.equal(headers[DEAD_LETTER_HEADERS.stage], 'deliver')
    assert.equal(headers[DEAD_LETTER_HEADERS.attempts], '1')
    assert.match(headers[DEAD_LETTER_HEADERS.reason], /HTTP 400: invalid payload/)
    assert.equal(headers[DEAD_LETTER_HEADERS.reason].includes('secret-token'), false)
    assert.equal((await codec.decode(records[1].value)).rule, 'Rejected')
  })

  it('dead-letters after the last attempt when the endpoint stays down', async () => {
    // Given a webhook that fails with 500 six times, the configured maximum
    webhook.failNext(...Array.from({ length: 6 }, () => ({ kind: 'status' as const, status: 500 })))

    // When an alert arrives
    await producer.send({
      topic: config.topics.alerts,
      messages: [{ key: 'node-1', value: codec.encode(sampleAlert('Unlucky')) }],
    })

    // Then it is dead-lettered after six attempts
    const records = await readRecords(config, `${config.topics.alertsDeadLetterPrefix}webhook`, 3)
    const headers = readDeadLetterHeaders(records[2].headers as Record<string, unknown>)
    assert.equal(headers[DEAD_LETTER_HEADERS.attempts], '6')
    assert.match(headers[DEAD_LETTER_HEADERS.reason], /HTTP 500/)
  })
})
