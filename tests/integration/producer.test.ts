import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEAD_LETTER_HEADERS, readDeadLetterHeaders } from '../../core/dead-letter.js'
import { SourceError } from '../../core/errors.js'
import { silentLogger } from '../../core/logger.js'
import { createMetricsRegistry } from '../../core/metrics.js'
import type { EventSource } from '../../producer/event-source.js'
import { runProducer } from '../../producer/main.js'
import type { SyscallEvent } from '../../schemas/types.js'
import { sampleEvent } from '../support/events.js'
import { integrationConfig, readRecords } from '../support/harness.js'

/** A source that yields the given events, then fails the way a corrupt file does. */
function sourceOf(events: SyscallEvent[], failure?: Error): EventSource {
  return {
    name: 'test',
    events: async function* () {
      yield* events
      if (failure !== undefined) throw failure
    },
    stats: () => ({ eventsRead: events.length, skipped: {}, dropped: {} }),
    close: async () => {},
  }
}

describe('producer on the real broker', () => {
  it('publishes every event read before the source fails', async () => {
    // Given a source that fails after 2,500 events, more than one batch
    const config = integrationConfig({ 'producer.maxBatchEvents': '1000' })
    const events = Array.from({ length: 2500 }, (_, index) => sampleEvent({ num: index + 1 }))
    const source = sourceOf(events, new SourceError('trace.scap: capture ends inside an event'))

    // When the producer runs, then it reports the failure with the count published
    await assert.rejects(
      runProducer({
        config,
        logger: silentLogger(),
        metricsRegistry: createMetricsRegistry(),
        source,
        signal: new AbortController().signal,
      }),
      /trace\.scap: capture ends inside an event \(the 2500 events read before it were published\)/,
    )

    // And all 2,500 are on the topic
    const records = await readRecords(config, config.topics.events, 2500)
    assert.equal(records.length, 2500)
  })

  it('dead-letters an event too large for one record and publishes the rest', async () => {
    // Given an event whose command line alone passes the record limit, between two normal ones
    const config = integrationConfig({ 'producer.maxBatchBytes': '100000' })
    const huge = sampleEvent({ num: 2, proc: { args: ['x'.repeat(200_000)] } })
    const source = sourceOf([sampleEvent({ num: 1 }), huge, sampleEvent({ num: 3 })])

    // When the producer runs
    const summary = await runProducer({
      config,
      logger: silentLogger(),
      metricsRegistry: createMetricsRegistry(),
      source,
      signal: new AbortController().signal,
    })

    // Then the two normal events are published and the large one is dead-lettered, cut short
    assert.equal(summary.eventsPublished, 2)
    assert.equal(summary.eventsDeadLettered, 1)
    const [dead] = await readRecords(config, config.topics.eventsDeadLetter, 1)
    const headers = readDeadLetterHeaders(dead.headers as Record<string, unknown>)
    assert.match(headers[DEAD_LETTER_HEADERS.reason], /larger than the 100000-byte record limit/)
    const copy = JSON.parse(dead.value?.toString() ?? '{}') as {
      num: number
      proc: { args: string[] }
    }
    assert.equal(copy.num, 2)
    assert.match(copy.proc.args[0], /\.\.\.\[195904 more characters\]$/)
  })
})
