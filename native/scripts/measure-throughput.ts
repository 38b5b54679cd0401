/**
 * Measures how many events per second the live eBPF source delivers while a child process runs
 * an open/close loop as fast as it can, and what the probe costs that loop. It runs the loop
 * three times: without the probe, with the probe and a consumer that only copies records out
 * of the ring (the kernel-side cost), and with the full EbpfSource. It prints the loop rates,
 * the delivered event rate, the consumer's CPU time and the drop counters.
 *
 *   node dist/native/scripts/measure-throughput.js [--seconds 5] [--ring-mib 8] [--loop-rate 0]
 *
 * --loop-rate caps the loop at that many open/close pairs per second (0: as fast as it can).
 *
 * Needs root (or CAP_BPF and CAP_PERFMON) and the built addon. Not a test: numbers depend on
 * the machine and on what else runs on it.
 */
import { spawn } from 'node:child_process'
import { parseArgs } from 'node:util'

import { EbpfSource } from '../../producer/ebpf-source.js'
import { buildSyscallSpecs } from '../../producer/ebpf/syscall-table.js'
import { openProbe } from '../src/index.js'

const MIB = 1024 * 1024
let loopRate = 0
// The loop paces itself to `rate` iterations per second when rate is above 0.
const LOOP_SOURCE = `
const fs = require('node:fs')
const [seconds, rate] = process.argv.slice(1).map(Number)
const start = Date.now()
const end = start + seconds * 1000
let iterations = 0
for (let now = start; now < end; now = Date.now()) {
  if (rate > 0 && iterations >= ((now - start) / 1000) * rate) continue
  fs.closeSync(fs.openSync('/etc/hostname', 'r'))
  iterations++
}
process.stdout.write(String(iterations))
`

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      'ring-mib': { type: 'string', default: '8' },
      'loop-rate': { type: 'string', default: '0' },
    },
  })
  const seconds = Number(values.seconds)
  const ringBytes = Number(values['ring-mib']) * MIB
  loopRate = Number(values['loop-rate'])

  const availability = EbpfSource.availability()
  if (!availability.isAvailable) {
    console.error(`cannot measure: ${availability.reason}`)
    process.exitCode = 1
    return
  }

  const baseline = await runLoop(seconds)
  const copied = await measureRingCopy(seconds, ringBytes)
  const traced = await measureTraced(seconds, ringBytes)

  console.log(`open/close loop without probe:   ${rate(baseline * 2, seconds)} syscalls/s`)
  console.log(
    `with probe, records copied only: ${rate(copied.loopIterations * 2, seconds)} syscalls/s` +
      ` (${slowdown(baseline, copied.loopIterations)}), ${rate(copied.records, seconds)}` +
      ` records/s, ring full ${copied.ringFull}`,
  )
  console.log(
    `with probe and EbpfSource:       ${rate(traced.loopIterations * 2, seconds)} syscalls/s` +
      ` (${slowdown(baseline, traced.loopIterations)})`,
  )
  console.log(
    `events delivered: ${traced.events} (${rate(traced.events, traced.elapsedSeconds)} events/s)`,
  )
  console.log(
    `consumer CPU: ${((traced.cpuSeconds / traced.elapsedSeconds) * 100).toFixed(0)} % of one core`,
  )
  console.log(`source stats: ${JSON.stringify(traced.stats)}`)
}

/** Runs the loop under the probe with a consumer that copies records out and decodes nothing. */
async function measureRingCopy(seconds: number, ringBytes: number) {
  const probe = openProbe({
    ringBytes,
    syscalls: buildSyscallSpecs(['openat', 'close']),
    ignoredPid: process.pid,
    unifiedCgroup: false,
  })
  const buffer = new Uint8Array(4 * MIB)
  let records = 0
  const timer = setInterval(() => {
    for (let batch = probe.readBatch(buffer); batch.records > 0; batch = probe.readBatch(buffer)) {
      records += batch.records
    }
  }, 2)
  try {
    const loopIterations = await runLoop(seconds)
    return { loopIterations, records, ringFull: probe.stats().ringFull }
  } finally {
    clearInterval(timer)
    probe.close()
  }
}

async function measureTraced(seconds: number, ringBytes: number) {
  const source = new EbpfSource({ ringBytes })
  const controller = new AbortController()
  let events = 0
  const consuming = (async () => {
    for await (const event of source.events(controller.signal)) {
      if (event.type === 'openat' || event.type === 'close') events++
    }
  })()
  while (source.stats().eventsRead === 0) await runLoop(0.05)

  events = 0
  const cpuBefore = process.cpuUsage()
  const startedMs = Date.now()
  const loopIterations = await runLoop(seconds)
  // Let the consumer drain what the kernel wrote before the loop ended.
  while ((await eventsInLast50Ms(source)) > 0) await sleepMs(50)
  const elapsedSeconds = (Date.now() - startedMs) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  controller.abort()
  await consuming

  return {
    loopIterations,
    events,
    elapsedSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    stats: source.stats(),
  }
}

async function eventsInLast50Ms(source: EbpfSource): Promise<number> {
  const before = source.stats().eventsRead
  await sleepMs(50)
  return source.stats().eventsRead - before
}

function runLoop(seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', LOOP_SOURCE, String(seconds), String(loopRate)])
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('error', reject)
    child.once('exit', () => resolve(Number(output)))
  })
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function slowdown(baseline: number, traced: number): string {
  return `${((1 - traced / baseline) * 100).toFixed(0)} % slower`
}

function rate(count: number, seconds: number): string {
  return Math.round(count / seconds).toLocaleString('en-US')
}

await main()
