// Measures the read rate of the capture source and of the event file source. Run after
// `npm run build`:
//
//   node dist/producer/measure-sources.js [CAPTURE_FILE] [RUNS]
//
// CAPTURE_FILE defaults to 502Error.scap, the largest upstream test capture (from sysdig-inspect,
// 9478 events as sysdig prints them). The script reads the capture RUNS times (default 5) per ancestor depth and
// times sysdig alone with the same fields for comparison. It then writes the capture's events as
// an event file in the temporary folder and reads that RUNS times. It prints medians: events
// yielded per second, and sysdig records (enter and exit events) read per second.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { upstreamPath } from '../tests/support/upstream.js'
import type { SyscallEvent } from '../schemas/types.js'
import { CaptureSource } from './capture-source.js'
import { EventsFileSource } from './events-file-source.js'
import type { EventSource } from './event-source.js'
import { SYSDIG_FIELDS, ancestorFields, buildFormat } from './sysdig-fields.js'

const DEFAULT_CAPTURE = upstreamPath('traces', 'sysdig-inspect', '502Error.scap')
const ANCESTOR_DEPTHS = [0, 8, 12, 16]

const capturePath = process.argv[2] ?? DEFAULT_CAPTURE
const runs = Number(process.argv[3] ?? 5)

for (const depth of ANCESTOR_DEPTHS) {
  const sysdigSeconds = median(repeat(runs, () => timeSysdigAlone(capturePath, depth)))
  const measured = await measureRuns(() => new CaptureSource(capturePath, { maxAncestors: depth }))
  report(`capture source, ${depth} ancestor levels`, measured)
  process.stdout.write(`  sysdig alone, same fields: ${sysdigSeconds.toFixed(3)} s\n`)
}

const workDir = mkdtempSync(join(tmpdir(), 'peregrine-measure-'))
try {
  const eventFile = join(workDir, 'events.jsonl')
  const events = await readAll(new CaptureSource(capturePath))
  writeFileSync(eventFile, events.map((event) => JSON.stringify(event, writeBigInt)).join('\n'))
  report('event file source', await measureRuns(() => new EventsFileSource(eventFile)))
} finally {
  rmSync(workDir, { recursive: true, force: true })
}

interface Measurement {
  eventCount: number
  recordCount: number
  seconds: number
}

async function measureRuns(create: () => EventSource): Promise<Measurement> {
  const samples: number[] = []
  let eventCount = 0
  let recordCount = 0
  for (let run = 0; run < runs; run++) {
    const source = create()
    const started = process.hrtime.bigint()
    eventCount = (await readAll(source)).length
    samples.push(Number(process.hrtime.bigint() - started) / 1e9)
    const stats = source.stats()
    recordCount = eventCount + sum(stats.skipped) + sum(stats.dropped)
  }
  return { eventCount, recordCount, seconds: median(samples) }
}

async function readAll(source: EventSource): Promise<SyscallEvent[]> {
  const events: SyscallEvent[] = []
  for await (const event of source.events(new AbortController().signal)) events.push(event)
  await source.close()
  return events
}

function timeSysdigAlone(path: string, depth: number): number {
  const format = buildFormat([...SYSDIG_FIELDS, ...ancestorFields(depth)])
  const started = process.hrtime.bigint()
  const result = spawnSync('sysdig', ['-r', path, '-v', '-j', '-p', format], {
    stdio: ['ignore', 'ignore', 'ignore'],
  })
  if (result.status !== 0) {
    throw new Error(`sysdig exited with code ${result.status} on ${path}; try "sysdig -r ${path}"`)
  }
  return Number(process.hrtime.bigint() - started) / 1e9
}

function report(label: string, measured: Measurement): void {
  const eventRate = Math.round(measured.eventCount / measured.seconds)
  const recordRate = Math.round(measured.recordCount / measured.seconds)
  process.stdout.write(
    `${label}: ${measured.eventCount} events from ${measured.recordCount} records in ` +
      `${measured.seconds.toFixed(3)} s (median of ${runs}): ${eventRate} events/s, ` +
      `${recordRate} records/s\n`,
  )
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, count) => total + count, 0)
}

function repeat(count: number, measure: () => number): number[] {
  return Array.from({ length: count }, measure)
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((left, right) => left - right)
  return sorted[Math.floor(sorted.length / 2)]
}

function writeBigInt(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}
