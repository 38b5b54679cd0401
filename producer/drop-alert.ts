import type { Alert } from '../schemas/types.js'

/** Falco's rule name for its syscall event drop alert (Falco 0.15 and later). */
export const DROP_ALERT_RULE = 'Falco internal: syscall event drop'
/** Falco raises the drop alert at Debug priority. Older Falco versions used Critical. */
export const DROP_ALERT_PRIORITY = 'Debug'
/** Falco's event source name for alerts it raises about itself. */
export const DROP_ALERT_SOURCE = 'internal'

/** Drops and events of one check interval. */
export interface DropCounts {
  /** Records the kernel tried to write, written or not. */
  events: number
  /** Every record lost: `kernelRingFull + kernelStashFull + userSpace`. */
  drops: number
  kernelRingFull: number
  kernelStashFull: number
  /** Events lost after the kernel wrote them: shed by back-pressure or unreadable. */
  userSpace: number
}

export interface DropAlertContext {
  nowNs: bigint
  hostname: string
  /** Events topic, named in the alert's event reference. */
  eventsTopic: string
}

/**
 * Builds the alert Falco raises when it loses syscall events, for the alerts topic. The output is
 * Falco's text line: the time, the priority, "Falco internal: syscall event drop. N system calls
 * dropped in last second." and the output fields as `name="value"` pairs in name order. Falco's
 * own fields are n_evts, n_drops, n_drops_buffer_total and ebpf_enabled; n_drops_stash_full and
 * n_drops_userspace are Peregrine's. The alert has no triggering event, so its event reference
 * has partition -1 and offset -1.
 */
export function buildDropAlert(counts: DropCounts, context: DropAlertContext): Alert {
  const fields: Record<string, string> = {
    ebpf_enabled: '1',
    n_drops: String(counts.drops),
    n_drops_buffer_total: String(counts.kernelRingFull),
    n_drops_stash_full: String(counts.kernelStashFull),
    n_drops_userspace: String(counts.userSpace),
    n_evts: String(counts.events),
  }
  const message = `${DROP_ALERT_RULE}. ${counts.drops} system calls dropped in last second.`
  const pairs = Object.keys(fields)
    .sort()
    .map((name) => `${name}=${JSON.stringify(fields[name])}`)
    .join(' ')

  const time = formatIsoTime(context.nowNs)
  return {
    time,
    ts_ns: context.nowNs,
    rule: DROP_ALERT_RULE,
    priority: DROP_ALERT_PRIORITY,
    output: `${time.slice(11, 29)}: ${DROP_ALERT_PRIORITY} ${message} (${pairs})`,
    output_fields: fields,
    hostname: context.hostname,
    source: DROP_ALERT_SOURCE,
    tags: [],
    event: { topic: context.eventsTopic, partition: -1, offset: -1, num: 0, type: 'drop' },
  }
}

/** Formats epoch nanoseconds as RFC 3339 in UTC with nine fraction digits, as Falco does. */
function formatIsoTime(nowNs: bigint): string {
  const seconds = nowNs / 1_000_000_000n
  const fraction = (nowNs % 1_000_000_000n).toString().padStart(9, '0')
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`
}
