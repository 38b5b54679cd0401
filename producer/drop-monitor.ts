import type { Logger } from '../core/logger.js'
import type { Alert } from '../schemas/types.js'
import { buildDropAlert } from './drop-alert.js'
import type { DropCounts } from './drop-alert.js'
import type { SourceStats } from './event-source.js'
import type { ProducerMetrics } from './metrics.js'
import { TokenBucket } from './token-bucket.js'

export interface DropMonitorSettings {
  /** Share of an interval's events that must be lost to raise an alert. Falco's default is .1. */
  threshold: number
  /** Token bucket refill rate, in alerts per second. Falco's default is .03333. */
  ratePerSecond: number
  /** Token bucket size, in alerts. Falco's default is 1. */
  maxBurst: number
  intervalMs: number
  hostname: string
  eventsTopic: string
}

export interface DropMonitorOptions {
  settings: DropMonitorSettings
  readSourceStats: () => SourceStats
  /** Events the publisher dropped, by reason. */
  readPublisherDrops: () => Record<string, number>
  /** Called with each alert the threshold and the token bucket let through. */
  onAlert: (alert: Alert) => void
  metrics: ProducerMetrics
  logger: Logger
}

/** Source drop reasons that happen in the kernel. Every other reason happens in user space. */
const KERNEL_CAUSES = { ring_full: 'ring_full', stash_full: 'stash_full' } as const

interface Totals {
  atMs: number
  eventsRead: number
  kernelRecords: number
  dropped: Record<string, number>
}

/**
 * Reads a live source's drop counters every interval and turns them into metrics and, like
 * Falco, into a "syscall event drop" alert. An interval raises an alert when its drops are more
 * than `threshold` of its events and the token bucket has a token, so the defaults allow one alert
 * per 30 s.
 */
export class DropMonitor {
  private readonly options: DropMonitorOptions
  private readonly logger: Logger
  private readonly bucket: TokenBucket
  private last: Totals
  private timer: NodeJS.Timeout | undefined

  constructor(options: DropMonitorOptions) {
    this.options = options
    this.logger = options.logger.child({ component: 'drop-monitor' })
    const { ratePerSecond, maxBurst } = options.settings
    this.bucket = new TokenBucket(ratePerSecond, maxBurst, nowNs())
    this.last = this.readTotals()
  }

  start(): void {
    this.timer ??= setInterval(() => this.check(), this.options.settings.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Reads the counters once: updates the metrics and raises an alert when due. */
  check(): void {
    const current = this.readTotals()
    const counts = this.countInterval(this.last, current)
    const elapsedSeconds = Math.max(current.atMs - this.last.atMs, 1) / 1000
    this.last = current

    const { metrics } = this.options
    metrics.eventsReadPerSecond.set((counts.eventsRead / elapsedSeconds) | 0)
    metrics.kernelRecords.inc(counts.kernelRecords)
    for (const [cause, count] of Object.entries(counts.kernel)) {
      if (count > 0) metrics.kernelDrops.inc({ cause }, count)
    }
    for (const [reason, count] of Object.entries(counts.sourceUserSpace)) {
      if (count > 0) metrics.eventsDropped.inc({ reason }, count)
    }
    this.raiseIfDue(counts.drops)
  }

  private raiseIfDue(drops: DropCounts): void {
    if (drops.drops === 0) return
    // The kernel counts every attempted record, so a record dropped in user space is among them.
    const ratio = drops.events === 0 ? 1 : drops.drops / drops.events
    if (ratio <= this.options.settings.threshold) return

    const now = nowNs()
    if (!this.bucket.tryTake(now)) {
      this.options.metrics.dropAlerts.inc({ outcome: 'rate_limited' })
      this.logger.debug({ ...drops }, 'syscall event drop alert skipped: token bucket empty')
      return
    }
    this.logger.warn({ ...drops }, 'syscall events dropped in the last interval')
    const { hostname, eventsTopic } = this.options.settings
    this.options.onAlert(buildDropAlert(drops, { nowNs: now, hostname, eventsTopic }))
  }

  private readTotals(): Totals {
    const stats = this.options.readSourceStats()
    return {
      atMs: Date.now(),
      eventsRead: stats.eventsRead,
      kernelRecords: stats.kernelRecords ?? 0,
      dropped: { ...stats.dropped, ...this.options.readPublisherDrops() },
    }
  }

  private countInterval(before: Totals, after: Totals) {
    const delta = (reason: string): number =>
      (after.dropped[reason] ?? 0) - (before.dropped[reason] ?? 0)
    const kernel = {
      [KERNEL_CAUSES.ring_full]: delta(KERNEL_CAUSES.ring_full),
      [KERNEL_CAUSES.stash_full]: delta(KERNEL_CAUSES.stash_full),
    }
    const userSpace: Record<string, number> = {}
    const sourceUserSpace: Record<string, number> = {}
    const publisherReasons = new Set(Object.keys(this.options.readPublisherDrops()))
    for (const reason of Object.keys(after.dropped)) {
      if (reason in KERNEL_CAUSES) continue
      userSpace[reason] = delta(reason)
      // The publisher counts its own drops in the metric, so only the source's are counted here.
      if (!publisherReasons.has(reason)) sourceUserSpace[reason] = delta(reason)
    }
    const kernelDrops = kernel.ring_full + kernel.stash_full
    const userDrops = Object.values(userSpace).reduce((sum, count) => sum + count, 0)
    const kernelRecords = after.kernelRecords - before.kernelRecords
    const drops: DropCounts = {
      events: kernelRecords + kernelDrops,
      drops: kernelDrops + userDrops,
      kernelRingFull: kernel.ring_full,
      kernelStashFull: kernel.stash_full,
      userSpace: userDrops,
    }
    return {
      eventsRead: after.eventsRead - before.eventsRead,
      kernelRecords,
      kernel,
      sourceUserSpace,
      drops,
    }
  }
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n
}
