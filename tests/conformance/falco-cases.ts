import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { upstreamPath } from '../support/upstream.js'

/** The regression-test files of Falco's repository, in the upstream folder. */
export const CASE_FILES = [
  'falco_tests.yaml',
  'falco_tests_exceptions.yaml',
  'falco_traces.yaml.in',
  'falco_tests_psp.yaml',
]

/** Folder of Falco's regression tests: the case files and their `rules/` folder. */
export const FALCO_TESTS_DIR = upstreamPath('falco-tests')

/** Rules file of Falco's CI when a case names none: the single-file rules of that commit. */
export const DEFAULT_RULES_FILE = upstreamPath('falco-rules', 'legacy', 'falco_rules.yaml')

/** One expected load error or warning, as Falco's `-V` JSON output reports it. */
export interface ExpectedProblem {
  item_type: string
  item_name: string
  code: string
  message?: string
  message_contains?: string
}

/** One case of Falco's regression suite: its keys as the case file writes them, paths resolved. */
export interface FalcoCase {
  /** Case name, unique across the four files. */
  name: string
  file: string
  /** Capture file as the case names it, such as `trace_files/cat_write.scap`. */
  traceName?: string
  /** Absolute path of the capture in the upstream traces folder; undefined when not there. */
  tracePath?: string
  rulesFiles: string[]
  validateRulesFiles: string[]
  spec: Record<string, unknown>
}

/** Maps Falco's trace folders to the upstream traces folder. */
const TRACE_FOLDERS: [string, string][] = [['trace_files/', 'traces/falco/']]

/** Reads every case of the four case files, in file order. */
export function loadFalcoCases(): FalcoCase[] {
  const cases: FalcoCase[] = []
  for (const file of CASE_FILES) {
    const document = parse(readFileSync(join(FALCO_TESTS_DIR, file), 'utf8'), {
      logLevel: 'silent',
    }) as Record<string, Record<string, Record<string, unknown>>>
    const group = file === 'falco_traces.yaml.in' ? document.traces : document.trace_files
    for (const [name, spec] of Object.entries(group)) cases.push(toCase(name, file, spec))
  }
  return cases
}

function toCase(name: string, file: string, spec: Record<string, unknown>): FalcoCase {
  const traceName = typeof spec.trace_file === 'string' ? spec.trace_file : undefined
  return {
    name,
    file,
    traceName,
    tracePath: traceName === undefined ? undefined : resolveTrace(traceName),
    rulesFiles: resolveRules(spec.rules_file, true),
    validateRulesFiles: resolveRules(spec.validate_rules_file, false),
    spec,
  }
}

function resolveTrace(traceName: string): string | undefined {
  for (const [prefix, folder] of TRACE_FOLDERS) {
    if (!traceName.startsWith(prefix)) continue
    const path = upstreamPath(folder, traceName.slice(prefix.length))
    return existsSync(path) ? path : undefined
  }
  return undefined
}

function resolveRules(value: unknown, isDefaulted: boolean): string[] {
  const names = value === undefined ? [] : Array.isArray(value) ? value : [value]
  if (names.length === 0) return isDefaulted ? [DEFAULT_RULES_FILE] : []
  return names.map((name) => join(FALCO_TESTS_DIR, String(name)))
}

/** Returns a list-valued key of a case as strings; a scalar becomes a one-element list. */
export function listOf(spec: Record<string, unknown>, key: string): string[] {
  const value = spec[key]
  if (value === undefined || value === null) return []
  return (Array.isArray(value) ? value : [value]).map(String)
}

/**
 * Returns `detect_counts` as rule and count pairs; Falco's file writes it as a list of one-key
 * maps, or one map with several keys.
 */
export function expectedCounts(spec: Record<string, unknown>): [string, number][] {
  const entries = (spec.detect_counts ?? []) as Record<string, number>[]
  return entries.flatMap((entry) => Object.entries(entry))
}
