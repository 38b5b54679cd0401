import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Producer } from 'kafkajs'
import { AvroCodec, createSchemaRegistry } from '../../core/avro-codec.js'
import { DEAD_LETTER_HEADERS, readDeadLetterHeaders } from '../../core/dead-letter.js'
import { KafkaError } from '../../core/errors.js'
import { createKafkaClient, createProducer, ensureTopics } from '../../core/kafka.js'
import { silentLogger } from '../../core/logger.js'
import { createMetricsRegistry } from '../../core/metrics.js'
import type { PeregrineConfig } from '../../core/peregrine-config.js'
import type { RuleEvaluator } from '../../processors/alert-builder.js'
import { startProcessor } from '../../processors/main.js'
import type { RunningProcessor } from '../../processors/main.js'
import { runProducer } from '../../producer/main.js'
import { ALERT_SCHEMA, SYSCALL_EVENT_SCHEMA } from '../../schemas/index.js'
import type { Alert, SyscallEvent } from '../../schemas/types.js'
import { sampleEvent } from '../support/events.js'
import { integrationConfig, readRecords, waitFor } from '../support/harness.js'

/** Matches every event whose process is named `nc`; a stand-in for a rule set, so only the processor is under test. */
const NETCAT_RULE: RuleEvaluator = {
  evaluate: (event) =>
    event.proc.name === 'nc'
      ? [
          {
            rule: 'Netcat seen',
            priority: 'Warning',
            output: `nc ran (pid=${event.proc.pid})`,
            outputFields: { 'proc.pid': event.proc.pid },
            tags: ['test'],
            source: 'syscall',
          },
        ]
      : [],
}

/** Throws for events of process `boom`, the way a broken rule would. */
const THROWING_RULE: RuleEvaluator = {
  evaluate: (event) => {
    if (event.proc.name === 'boom') throw new RangeError('evaluation exploded')
    return NETCAT_RULE.evaluate(event)
  },
}

describe('rule processor on the real broker', () => {
  let config: PeregrineConfig
  let producer: Producer
  let eventCodec: AvroCodec<SyscallEvent>
  let processor: RunningProcessor | undefined

  before(async () => {
    config = integrationConfig()
    const client = createKafkaClient(config, 'test', silentLogger())
    await ensureTopics(client, config, [config.topics.events])
    eventCodec = await AvroCodec.register<SyscallEvent>(
      createSchemaRegistry(config.registry),
      `${config.topics.events}-value`,
      SYSCALL_EVENT_SCHEMA,
    )
    producer = createProducer(client)
    await producer.connect()
  })

  after(async () => {
    await processor?.close()
    await producer.disconnect()
  })

  it('dead-letters bad records and keeps processing the ones after them', async () => {
    // Given an events topic holding a JSON record, a truncated Avro record, an event whose
    // evaluation throws, and a good event, all on one partition
    const good = sampleEvent({ num: 4, proc: { name: 'nc', pid: 4242 } })
    const truncated = eventCodec.encode(sampleEvent({ num: 2 })).subarray(0, 20)
    await producer.send({
      topic: config.topics.events,
      messages: [
        { key: 'h', value: Buffer.from('{"evt":"json"}'), partition: 0 },
        { key: 'h', value: truncated, partition: 0 },
        {
          key: 'h',
          value: eventCodec.encode(sampleEvent({ num: 3, proc: { name: 'boom' } })),
          partition: 0,
        },
        { key: 'h', value: eventCodec.encode(good), partition: 0 },
      ],
    })

    // When the processor runs
    processor = await startProcessor({
      config,
      logger: silentLogger(),
      metricsRegistry: createMetricsRegistry(),
      rules: THROWING_RULE,
    })

    // Then the good event raises its alert, with a reference to its position
    const [alertRecord] = await readRecords(config, config.topics.alerts, 1)
    const alertCodec = await AvroCodec.register<Alert>(
      createSchemaRegistry(config.registry),
      `${config.topics.alerts}-value`,
      ALERT_SCHEMA,
    )
    const alert = await alertCodec.decode(alertRecord.value)
    assert.equal(alert.rule, 'Netcat seen')
    assert.equal(alert.output_fields['proc.pid'], 4242)
    assert.equal(alert.event.offset, 3)
    assert.equal(alert.event.num, 4)

    // And the three bad records are on the dead-letter topic, unchanged, each with its reason
    const dead = await readRecords(config, config.topics.eventsDeadLetter, 3)
    const reasons = dead.map((record) =>
      readDeadLetterHeaders(record.headers as Record<string, unknown>),
    )
    assert.equal(dead[0].value?.toString(), '{"evt":"json"}')
    assert.match(reasons[0][DEAD_LETTER_HEADERS.reason], /first byte is 0x7b/)
    assert.equal(reasons[1][DEAD_LETTER_HEADERS.stage], 'decode')
    assert.equal(reasons[1][DEAD_LETTER_HEADERS.errorCode], 'PEREGRINE_DECODE_FAILED')
    assert.equal(reasons[2][DEAD_LETTER_HEADERS.stage], 'evaluate')
    assert.match(reasons[2][DEAD_LETTER_HEADERS.reason], /evaluation exploded/)
    assert.equal(reasons[2][DEAD_LETTER_HEADERS.offset], '2')

    await waitFor('processor counts', () => processor?.stats().eventsDeadLettered === 3)
  })
})

describe('roles against an unreachable broker', () => {
  it('fail with an error that names the brokers and the fix', async () => {
    // Given a broker address where nothing listens
    const config = integrationConfig({
      'kafka.brokers': '127.0.0.1:1',
      'kafka.retries': '1',
      'kafka.connectionTimeoutMs': '200',
    })
    const source = {
      name: 'empty',
      events: async function* () {},
      stats: () => ({ eventsRead: 0, skipped: {}, dropped: {} }),
      close: async () => {},
    }

    // When the producer starts, then it gives up after its retries with a clear message
    await assert.rejects(
      runProducer({
        config,
        logger: silentLogger(),
        metricsRegistry: createMetricsRegistry(),
        source,
        signal: new AbortController().signal,
      }),
      (error: unknown) => {
        assert.ok(error instanceof KafkaError)
        assert.match(
          error.message,
          /cannot connect to Kafka brokers 127\.0\.0\.1:1 after 1 retries/,
        )
        assert.match(error.message, /PEREGRINE_KAFKA_BROKERS/)
        return true
      },
    )
  })
})
