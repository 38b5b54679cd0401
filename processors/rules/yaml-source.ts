import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit } from 'yaml'
import type { Document, Node, Pair, YAMLMap } from 'yaml'
import { ItemProblem } from './load-problem.js'
import type { LoadReport, SourcePosition } from './load-problem.js'

/** One top-level item of a rules file: a YAML map with the means to locate its parts. */
export interface YamlItem {
  map: YAMLMap
  file: string
  /** Text of the whole file, which `locateOffset` offsets index. */
  source: string
  locate: (node: Node | null | undefined) => SourcePosition
  locateOffset: (offset: number) => SourcePosition
}

const RULES_FILE_PATTERN = /\.ya?ml$/

/** Nodes copied by alias expansion past which a document is rejected ("billion laughs" input). */
export const MAX_YAML_ALIAS_NODES = 100000

/**
 * Expands files and folders into rules files, in order: a folder contributes its `.yaml` and
 * `.yml` files sorted by name, as Falco loads a rules folder.
 */
export function expandRulesPaths(paths: string[], report: LoadReport): string[] {
  const files: string[] = []
  for (const path of paths) {
    try {
      if (!statSync(path).isDirectory()) {
        files.push(path)
        continue
      }
      const names = readdirSync(path).filter((name) => RULES_FILE_PATTERN.test(name))
      files.push(...names.sort().map((name) => join(path, name)))
    } catch (error) {
      report.error({ ...fileStart(path), code: 'LOAD_ERR_FILE_READ', message: readFailure(error) })
    }
  }
  return files
}

/** Reads one rules file as text, recording LOAD_ERR_FILE_READ when it cannot be read. */
export function readRulesFile(file: string, report: LoadReport): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    report.error({ ...fileStart(file), code: 'LOAD_ERR_FILE_READ', message: readFailure(error) })
    return undefined
  }
}

/**
 * Parses the YAML documents of one rules file and returns their items in order. Empty documents
 * are skipped. A syntax error or a document that is not a sequence of maps is recorded and ends
 * the file, as in Falco.
 */
export function parseRulesText(file: string, text: string, report: LoadReport): YamlItem[] {
  const lineCounter = new LineCounter()
  const documents = parseAllDocuments(text, { lineCounter, uniqueKeys: false })
  const locateOffset = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset)
    return { file, line, column: col }
  }
  const locate = (node: Node | null | undefined) => locateOffset(node?.range?.[0] ?? 0)
  const docList = Array.isArray(documents) ? documents : []
  for (const document of docList) {
    const syntaxError = document.errors[0]
    if (syntaxError === undefined) continue
    const [start] = syntaxError.linePos ?? [{ line: 1, col: 1 }]
    const message = `invalid YAML: ${syntaxError.message.split('\n')[0]}`
    report.error({
      file,
      line: start.line,
      column: start.col,
      code: 'LOAD_ERR_YAML_PARSE',
      message,
    })
    return []
  }

  const items: YamlItem[] = []
  for (const document of docList) {
    if (!expandAliases(document)) {
      const message = `YAML aliases expand to more than ${MAX_YAML_ALIAS_NODES} nodes`
      report.error({ file, line: 1, column: 1, code: 'LOAD_ERR_YAML_PARSE', message })
      return []
    }
    const contents = document.contents
    if (contents === null || (isScalar(contents) && contents.value === null)) continue
    if (!isSeq(contents)) {
      const message = 'rules content is not a YAML sequence of maps'
      report.error({ ...locate(contents), code: 'LOAD_ERR_YAML_VALIDATE', message })
      return []
    }
    for (const element of contents.items) {
      if (!isMap(element)) {
        const message = 'unexpected element type: each element must be a YAML map'
        report.error({ ...locate(element as Node), code: 'LOAD_ERR_YAML_VALIDATE', message })
        return []
      }
      items.push({ map: element, file, source: text, locate, locateOffset })
    }
  }
  return items
}

/** Returns the pair of a map whose key is the given text, or undefined. */
export function findPair(map: YAMLMap, key: string): Pair<Node, Node | null> | undefined {
  for (const pair of map.items as Pair<Node, Node | null>[]) {
    if (isScalar(pair.key) && String(pair.key.value) === key) return pair
  }
  return undefined
}

/** Returns the key names of a map, in order. */
export function keysOf(map: YAMLMap): string[] {
  return (map.items as Pair<Node, Node | null>[]).map((pair) =>
    isScalar(pair.key) ? String(pair.key.value) : '',
  )
}

/**
 * Returns a scalar as text the way Falco's YAML reader sees it: the source text of plain scalars
 * (so `1.0` stays `1.0`), the decoded value of quoted ones. Throws ItemProblem for a non-scalar.
 */
export function scalarText(node: Node | null | undefined, what: string, item: YamlItem): string {
  if (!isScalar(node)) {
    const message = `invalid value for '${what}': expected a scalar`
    throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(node))
  }
  if (node.value === null) return ''
  if (node.type === 'PLAIN' && node.source !== undefined) return node.source
  return String(node.value)
}

/** Returns a YAML boolean (`true`, `false` in any case, `yes`, `no`, `on`, `off`). */
export function scalarBoolean(
  node: Node | null | undefined,
  what: string,
  item: YamlItem,
): boolean {
  const text = scalarText(node, what, item).toLowerCase()
  if (['true', 'yes', 'on', 'y'].includes(text)) return true
  if (['false', 'no', 'off', 'n'].includes(text)) return false
  const message = `invalid value for '${what}': expected true or false, found '${text}'`
  throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(node))
}

/** Returns a YAML sequence of scalars as text; a missing or null value gives an empty list. */
export function scalarList(node: Node | null | undefined, what: string, item: YamlItem): string[] {
  if (node === null || node === undefined) return []
  if (isScalar(node) && node.value === null) return []
  if (!isSeq(node)) {
    const message = `invalid value for '${what}': expected a sequence`
    throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(node))
  }
  return (node.items as Node[]).map((element) => scalarText(element, what, item))
}

/**
 * Replaces each alias (`*name`) by a copy of its anchored node, so items read them like any
 * value. Returns false when the copies would exceed MAX_YAML_ALIAS_NODES nodes in total.
 */
function expandAliases(document: Document): boolean {
  let copiedNodes = 0
  let isWithinLimit = true
  visit(document, {
    Alias(_, alias) {
      const target = alias.resolve(document)
      if (target === undefined) return undefined
      copiedNodes += countNodes(target, MAX_YAML_ALIAS_NODES - copiedNodes + 1)
      if (copiedNodes > MAX_YAML_ALIAS_NODES) {
        isWithinLimit = false
        return visit.BREAK
      }
      return target.clone() as Node
    },
  })
  return isWithinLimit
}

/** Counts the nodes of a tree, stopping once the count reaches `limit`. */
function countNodes(root: Node, limit: number): number {
  let count = 0
  visit(root, () => {
    count++
    return count >= limit ? visit.BREAK : undefined
  })
  return count
}

function fileStart(file: string): SourcePosition {
  return { file, line: 1, column: 1 }
}

function readFailure(error: unknown): string {
  const code = (error as { code?: string }).code
  return `cannot read rules file (${code ?? String(error)})`
}
