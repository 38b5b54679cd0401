import { isMap, isSeq } from 'yaml'
import type { Node } from 'yaml'
import { ItemProblem } from './load-problem.js'
import { findPair, scalarText } from './yaml-source.js'
import type { YamlItem } from './yaml-source.js'

/**
 * Version of Falco's rule engine whose language this engine implements, compared with
 * `required_engine_version`. Falco 0.44 reports 0.62.0. The parts of the language this engine
 * lacks are listed under "Known limitations" in this folder's README.
 */
export const ENGINE_VERSION = '0.62.0'

/**
 * Plugins whose fields this engine provides itself, with the plugin version it replaces. The
 * container plugin's container.* and k8s.* fields are read from SyscallEvent.container.
 */
export const BUILT_IN_PLUGINS: Readonly<Record<string, string>> = { container: '0.4.0' }

export interface RequirementOptions {
  engineVersion: string
  plugins: Readonly<Record<string, string>>
}

/** Checks a `required_engine_version` or `required_plugin_versions` item; throws ItemProblem. */
export function readRequirement(
  kind: 'required_engine_version' | 'required_plugin_versions',
  item: YamlItem,
  options: RequirementOptions,
): void {
  const value = findPair(item.map, kind)?.value
  if (kind === 'required_engine_version') checkEngineVersion(value, item, options.engineVersion)
  else checkPluginVersions(value, item, options.plugins)
}

function checkEngineVersion(value: Node | null | undefined, item: YamlItem, engine: string): void {
  const text = scalarText(value, 'required_engine_version', item)
  const required = /^\d+$/.test(text) ? [0, Number(text), 0] : parseVersion(text)
  if (required === undefined) {
    const message = `invalid required_engine_version '${text}': expected an integer or a semver`
    throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(value))
  }
  const actual = parseVersion(engine) ?? [0, 0, 0]
  if (required[0] !== actual[0] || compareVersions(required, actual) > 0) {
    const message = `Rules require engine version ${text}, but engine version is ${engine}`
    throw new ItemProblem('LOAD_ERR_VALIDATE', message, item.locate(value))
  }
}

function checkPluginVersions(
  value: Node | null | undefined,
  item: YamlItem,
  plugins: Readonly<Record<string, string>>,
): void {
  if (!isSeq(value)) {
    const message = 'required_plugin_versions must be a sequence of {name, version}'
    throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(value))
  }
  for (const entry of value.items as Node[]) {
    const choices = readPluginChoices(entry, item)
    const names = choices.map((choice) => choice.name)
    if (new Set(names).size !== names.length) {
      const message = `required plugin '${names[0]}' is listed twice in one entry`
      throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(entry))
    }
    const isSatisfied = choices.some((choice) => {
      const provided = parseVersion(plugins[choice.name] ?? '')
      const required = parseVersion(choice.version)
      if (provided === undefined || required === undefined) return false
      return provided[0] === required[0] && compareVersions(provided, required) >= 0
    })
    if (!isSatisfied) {
      const wanted = choices.map((choice) => `${choice.name} ${choice.version}`).join(' or ')
      const message = `rules require plugin ${wanted}, which this engine does not provide`
      throw new ItemProblem('LOAD_ERR_VALIDATE', message, item.locate(entry))
    }
  }
}

function readPluginChoices(entry: Node, item: YamlItem): { name: string; version: string }[] {
  if (!isMap(entry)) {
    const message = 'each required plugin must be a map with name and version'
    throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(entry))
  }
  const first = {
    name: scalarText(findPair(entry, 'name')?.value, 'name', item),
    version: scalarText(findPair(entry, 'version')?.value, 'version', item),
  }
  const alternatives = findPair(entry, 'alternatives')?.value
  if (alternatives === undefined || alternatives === null) return [first]
  if (!isSeq(alternatives)) {
    const message = 'alternatives must be a sequence of {name, version}'
    throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(alternatives))
  }
  return [
    first,
    ...(alternatives.items as Node[]).flatMap((child) => readPluginChoices(child, item)),
  ]
}

function parseVersion(text: string): number[] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(text.trim())
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])]
}

function compareVersions(left: number[], right: number[]): number {
  for (let i = 0; i < 3; i++) {
    if (left[i] !== right[i]) return left[i] - right[i]
  }
  return 0
}
