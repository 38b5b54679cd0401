import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseSchema } from '../core/avro-codec.js'
import { SYSCALL_EVENT_SCHEMA } from '../schemas/index.js'
import type { SyscallEvent } from '../schemas/types.js'
import { GeneratorSource } from './generator-source.js'

async function collect(source: GeneratorSource): Promise<SyscallEvent[]> {
  const events: SyscallEvent[] = []
  for await (const event of source.events(new AbortController().signal)) events.push(event)
  return events
}

describe('GeneratorSource', () => {
  it('generates the requested number of schema-valid events', async () => {
    const type = parseSchema(SYSCALL_EVENT_SCHEMA)

    const events = await collect(
      new GeneratorSource({ count: 2000, hostname: 'gen', suspiciousRatio: 0.05 }),
    )

    assert.equal(events.length, 2000)
    for (const event of events) {
      const problems: string[] = []
      type.isValid(event, { errorHook: (path) => problems.push(path.join('.')) })
      assert.deepEqual(problems, [], `event ${event.num} has invalid fields`)
    }
  })

  it('repeats the same events for the same seed', async () => {
    const first = await collect(new GeneratorSource({ count: 50, hostname: 'gen', seed: 7 }))
    const second = await collect(new GeneratorSource({ count: 50, hostname: 'gen', seed: 7 }))

    assert.deepEqual(first, second)
  })

  it('mixes event types with opens the most common', async () => {
    const events = await collect(new GeneratorSource({ count: 5000, hostname: 'gen' }))
    const counts = new Map<string, number>()
    for (const event of events) counts.set(event.type, (counts.get(event.type) ?? 0) + 1)

    assert.ok((counts.get('openat') ?? 0) > 3000)
    assert.ok((counts.get('execve') ?? 0) > 100)
    assert.ok((counts.get('connect') ?? 0) > 100)
    assert.ok((counts.get('close') ?? 0) > 300)
  })
})
