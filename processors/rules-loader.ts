import { join } from 'node:path'
import type { Logger } from '../core/logger.js'
import { PROJECT_ROOT } from '../schemas/index.js'
import { loadRuleSet } from './rules/index.js'
import type { RuleSet } from './rules/index.js'

/** Peregrine's own rules, used when no rules file is given. */
export const DEFAULT_RULES_FILE = join(
  PROJECT_ROOT,
  'processors',
  'rules',
  'default',
  'peregrine_rules.yaml',
)

/** Load warnings logged one by one; the rest are counted, and all are logged at debug. */
const MAX_WARNINGS_LOGGED = 20

/**
 * Loads the rules files (the default rules when `files` is empty) and logs the load warnings.
 * Throws RuleError listing every load error with file, line and column.
 */
export function loadProcessorRules(
  files: readonly string[],
  minPriority: string,
  logger: Logger,
): RuleSet {
  const paths = files.length === 0 ? [DEFAULT_RULES_FILE] : [...files]
  const rules = loadRuleSet(paths, { minPriority })
  const log = logger.child({ component: 'rules' })
  for (const [index, warning] of rules.warnings.entries()) {
    const fields = {
      code: warning.code,
      file: warning.file,
      line: warning.line,
      column: warning.column,
      item: warning.item,
    }
    if (index < MAX_WARNINGS_LOGGED) log.warn(fields, warning.message)
    else log.debug(fields, warning.message)
  }
  const enabled = rules.rules.filter((rule) => rule.enabled).length
  log.info(
    { files: paths, rules: rules.rules.length, enabled, warnings: rules.warnings.length },
    'rules loaded',
  )
  return rules
}
