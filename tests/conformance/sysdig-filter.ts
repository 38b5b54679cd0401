import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/**
 * Maximum length of the filter passed to one sysdig run, in characters. Linux caps one command-line argument at
 * 128 KiB (MAX_ARG_STRLEN), and sysdig 0.29 takes its filter only as an argument.
 */
export const MAX_FILTER_CHARS = 120_000

/**
 * Selects the events Peregrine evaluates: exit events, and the `container`, `procexit` and
 * `signaldeliver` meta events, which sysdig 0.29 marks as enter events.
 */
export const PEREGRINE_EVENTS = '(evt.dir=< or evt.type in (container, procexit, signaldeliver))'

/** Time limit of one sysdig run. sysdig reads each upstream capture in well under a second. */
const SYSDIG_TIMEOUT_MS = 120_000

/** Outcome of one filter run: the matching event numbers, or sysdig's error message. */
export type FilterResult = { eventNumbers: number[] } | { error: string }

/** Returns why sysdig cannot be used here, or undefined when `sysdig --version` runs. */
export function sysdigSkipReason(): string | undefined {
  try {
    execFileSync('sysdig', ['--version'], { stdio: 'ignore' })
    return undefined
  } catch {
    return 'sysdig is not installed (apt-get install --no-install-recommends sysdig)'
  }
}

/**
 * Runs `sysdig -r TRACE -p %evt.num FILTER` and returns the numbers of the events it prints, or
 * the error sysdig reports (an unknown field, a syntax it does not have, an unreadable trace).
 */
export async function runSysdigFilter(trace: string, filter: string): Promise<FilterResult> {
  try {
    const { stdout } = await execFileAsync('sysdig', ['-r', trace, '-p', '%evt.num', filter], {
      maxBuffer: 1 << 28,
      timeout: SYSDIG_TIMEOUT_MS,
    })
    return { eventNumbers: stdout.split('\n').filter(Boolean).map(Number) }
  } catch (error) {
    const { stdout, stderr, message } = error as {
      stdout?: string
      stderr?: string
      message: string
    }
    const text = `${stderr ?? ''} ${stdout ?? ''}`.trim()
    return { error: text === '' ? message : text.split('\n')[0] }
  }
}

/** Joins conditions with `or`, each in parentheses. */
export function anyOf(conditions: string[]): string {
  return conditions.map((condition) => `(${condition})`).join(' or ')
}

/** Splits items into consecutive groups whose texts add up to at most `maxChars` each. */
export function groupByLength<T>(items: T[], text: (item: T) => string, maxChars: number): T[][] {
  const groups: T[][] = []
  let current: T[] = []
  let length = 0
  for (const item of items) {
    const itemLength = text(item).length + 8
    if (current.length > 0 && length + itemLength > maxChars) {
      groups.push(current)
      current = []
      length = 0
    }
    current.push(item)
    length += itemLength
  }
  if (current.length > 0) groups.push(current)
  return groups
}

/** An event sysdig printed: its number, direction (`>` enter, `<` exit) and type. */
export interface PrintedEvent {
  num: number
  dir: string
  type: string
}

/** Runs a filter like runSysdigFilter() and returns each event's number, direction and type. */
export async function runSysdigEvents(
  trace: string,
  filter: string,
): Promise<{ events: PrintedEvent[] } | { error: string }> {
  try {
    const args = ['-r', trace, '-p', '%evt.num %evt.dir %evt.type', filter]
    const { stdout } = await execFileAsync('sysdig', args, {
      maxBuffer: 1 << 28,
      timeout: SYSDIG_TIMEOUT_MS,
    })
    const events = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [num, dir, type] = line.split(' ')
        return { num: Number(num), dir, type }
      })
    return { events }
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0] }
  }
}

/** Event types Peregrine reads although sysdig 0.29 marks them as enter events. */
export const META_EVENT_TYPES = new Set(['container', 'procexit', 'signaldeliver'])
