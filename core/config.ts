import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { LineCounter, parseDocument, isMap, isScalar } from 'yaml'
import type { Document, Node as YamlNode } from 'yaml'
import { ConfigError } from './errors.js'

/**
 * One configuration setting: where it comes from, what it means and how it is checked. Values from
 * the environment and the command line arrive as text and go through `fromText`. Values from a
 * config file arrive as YAML values and are checked by `schema` directly.
 */
export interface Setting<T = unknown> {
  env: string
  description: string
  schema: z.ZodType<T>
  fromText: (text: string) => unknown
  default?: T
  isSecret?: boolean
}

export interface SettingTree {
  [key: string]: Setting | SettingTree
}

/** The typed value a tree of settings produces. */
export type ConfigOf<S extends SettingTree> = {
  readonly [K in keyof S]: S[K] extends Setting<infer T>
    ? T
    : S[K] extends SettingTree
      ? ConfigOf<S[K]>
      : never
}

export interface ConfigSources {
  /** YAML or JSON file whose nested keys mirror the setting tree. */
  file?: string
  /** Environment variables, normally `process.env`; only the names in the tree are read. */
  env?: Record<string, string | undefined>
  /** Values from command-line flags, by dotted key (`kafka.brokers`), as text. */
  overrides?: Record<string, string | undefined>
  /** The flag each override came from, by dotted key, so errors name what the user typed. */
  overrideFlags?: Record<string, string>
}

interface FileValues {
  values: Map<string, unknown>
  lines: Map<string, number>
}

/**
 * Builds the frozen configuration from defaults, then the file, then the environment, then
 * command-line overrides. Throws one ConfigError that lists every invalid or missing value, each
 * with its key, its environment variable and, for file values, the file and line.
 */
export function loadConfig<S extends SettingTree>(
  tree: S,
  sources: ConfigSources = {},
): ConfigOf<S> {
  const knownKeys = new Set([...flattenTree(tree)].map(([key]) => key))
  const file = sources.file === undefined ? undefined : readConfigFile(sources.file, knownKeys)
  const problems: string[] = []
  const result: Record<string, unknown> = {}

  for (const [key, setting] of flattenTree(tree)) {
    const value = resolveSetting(key, setting, sources, file, problems)
    setPath(result, key, value)
  }
  const unknownKeys = [...(file?.values.keys() ?? [])].filter((key) => !knownKeys.has(key))
  for (const key of unknownKeys) {
    problems.push(
      `${sources.file}:${file?.lines.get(key) ?? 1}: unknown key "${key}"; remove it or check its spelling`,
    )
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`, {
      context: { file: sources.file },
    })
  }
  return deepFreeze(result) as ConfigOf<S>
}

/** Lists every setting with its key, environment variable, default and description. */
export function describeSettings(
  tree: SettingTree,
): Array<{ key: string; env: string; defaultValue: unknown; description: string }> {
  return [...flattenTree(tree)].map(([key, setting]) => ({
    key,
    env: setting.env,
    defaultValue: setting.isSecret === true ? undefined : setting.default,
    description: setting.description,
  }))
}

/** Returns a copy of the config with every secret setting replaced, for the start-up log line. */
export function redactConfig<S extends SettingTree>(
  tree: S,
  config: ConfigOf<S>,
): Record<string, unknown> {
  const copy = structuredClone(config) as Record<string, unknown>
  for (const [key, setting] of flattenTree(tree)) {
    if (setting.isSecret === true && getPath(copy, key) !== undefined)
      setPath(copy, key, '[redacted]')
  }
  return copy
}

function resolveSetting(
  key: string,
  setting: Setting,
  sources: ConfigSources,
  file: FileValues | undefined,
  problems: string[],
): unknown {
  const override = sources.overrides?.[key]
  const envText = sources.env?.[setting.env]
  if (override !== undefined)
    return parseText(
      setting,
      override,
      sources.overrideFlags?.[key] ?? `command-line value for ${key}`,
      problems,
    )
  if (envText !== undefined && envText !== '')
    return parseText(setting, envText, setting.env, problems)

  if (file?.values.has(key) === true) {
    const value = file.values.get(key)
    const shown = setting.isSecret === true ? '"[redacted]"' : JSON.stringify(value)
    const where = `${sources.file}:${file.lines.get(key) ?? 1}: ${key}=${shown}`
    return check(setting, value, where, problems)
  }
  if (setting.default !== undefined) return setting.default

  const optional = setting.schema.safeParse(undefined)
  if (optional.success) return optional.data
  problems.push(`${key} is required; set ${setting.env} or "${key}" in the config file`)
  return undefined
}

function parseText(setting: Setting, text: string, where: string, problems: string[]): unknown {
  let value: unknown
  try {
    value = setting.fromText(text)
  } catch (error) {
    problems.push(`${where}=${quoteValue(setting, text)}: ${(error as Error).message}`)
    return undefined
  }
  return check(setting, value, `${where}=${quoteValue(setting, text)}`, problems)
}

function check(setting: Setting, value: unknown, where: string, problems: string[]): unknown {
  const parsed = setting.schema.safeParse(value)
  if (parsed.success) return parsed.data
  const reasons = parsed.error.issues.map((issue) => issue.message).join('; ')
  problems.push(`${where}: ${reasons} (${setting.description})`)
  return undefined
}

function quoteValue(setting: Setting, text: string): string {
  return setting.isSecret === true ? '"[redacted]"' : JSON.stringify(text)
}

function readConfigFile(path: string, knownKeys: Set<string>): FileValues {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`, {
      cause: error,
      context: { file: path },
    })
  }
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { lineCounter, prettyErrors: false })
  if (document.errors.length > 0) {
    const first = document.errors[0]
    const line = lineCounter.linePos(first.pos[0]).line
    throw new ConfigError(`${path}:${line}: config file is not valid YAML: ${first.message}`, {
      context: { file: path, line },
    })
  }
  return collectFileValues(document, lineCounter, path, knownKeys)
}

function collectFileValues(
  document: Document,
  lineCounter: LineCounter,
  path: string,
  knownKeys: Set<string>,
): FileValues {
  const result: FileValues = { values: new Map(), lines: new Map() }
  if (document.contents === null) return result
  if (!isMap(document.contents)) {
    throw new ConfigError(`${path}:1: config file must be a mapping of setting names to values`, {
      context: { file: path, line: 1 },
    })
  }
  const visit = (node: YamlNode, prefix: string): void => {
    if (!isMap(node)) return
    for (const pair of node.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      const key = prefix === '' ? name : `${prefix}.${name}`
      const line =
        pair.key !== null && typeof pair.key === 'object' && 'range' in pair.key
          ? lineCounter.linePos((pair.key as YamlNode).range?.[0] ?? 0).line
          : 1
      result.lines.set(key, line)
      if (isMap(pair.value) && !knownKeys.has(key)) {
        visit(pair.value as YamlNode, key)
      } else {
        result.values.set(key, (pair.value as YamlNode | null)?.toJSON() ?? null)
      }
    }
  }
  visit(document.contents, '')
  return result
}

function* flattenTree(tree: SettingTree, prefix = ''): Generator<[string, Setting]> {
  for (const [name, node] of Object.entries(tree)) {
    const key = prefix === '' ? name : `${prefix}.${name}`
    if (isSetting(node)) yield [key, node]
    else yield* flattenTree(node, key)
  }
}

function isSetting(node: Setting | SettingTree): node is Setting {
  return typeof (node as Setting).env === 'string' && (node as Setting).schema instanceof z.ZodType
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.')
  let node = target
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {}
    node = node[part] as Record<string, unknown>
  }
  node[parts[parts.length - 1]] = value
}

function getPath(target: Record<string, unknown>, key: string): unknown {
  let node: unknown = target
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/** An environment variable with the settings' prefix that no setting reads. */
export interface UnknownVariable {
  name: string
  /** The setting variable closest in spelling, when one is close enough to be a typo. */
  suggestion?: string
}

/** Edits up to which a known variable is offered as the likely intended one. */
const MAX_SUGGESTION_DISTANCE = 3

/**
 * Lists environment variables that start with `prefix` but match no setting and are not in
 * `otherKnown`, each with the nearest setting variable when it looks like a typo. A misspelt
 * variable is otherwise silently ignored, unlike a misspelt config-file key.
 */
export function findUnknownEnvVars(
  tree: SettingTree,
  env: Record<string, string | undefined>,
  prefix: string,
  otherKnown: readonly string[] = [],
): UnknownVariable[] {
  const known = [...flattenTree(tree)].map(([, setting]) => setting.env)
  const accepted = new Set([...known, ...otherKnown])
  return Object.keys(env)
    .filter((name) => name.startsWith(prefix) && !accepted.has(name))
    .sort()
    .map((name) => {
      const [nearest] = known
        .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
        .sort((left, right) => left.distance - right.distance)
      return nearest !== undefined && nearest.distance <= MAX_SUGGESTION_DISTANCE
        ? { name, suggestion: nearest.candidate }
        : { name }
    })
}

/** Levenshtein distance: insertions, deletions and substitutions that turn one text into the other. */
function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index)
  for (let row = 1; row <= left.length; row++) {
    const current = [row]
    for (let column = 1; column <= right.length; column++) {
      const substitution = previous[column - 1] + (left[row - 1] === right[column - 1] ? 0 : 1)
      current.push(Math.min(previous[column] + 1, current[column - 1] + 1, substitution))
    }
    previous = current
  }
  return previous[right.length]
}
