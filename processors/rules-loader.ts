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
  const countsByCode: Record<string, number> = {}
  for (const warning of rules.warnings) {
    countsByCode[warning.code] = (countsByCode[warning.code] ?? 0) + 1
    const { code, file, line, column, item } = warning
    log.debug({ code, file, line, column, item }, warning.message)
  }
  if (rules.warnings.length > 0) {
    // One line for all warnings: upstream Falco files give dozens of deprecation warnings, and
    // `peregrine rules validate` lists them one by one.
    log.warn(
      { warnings: rules.warnings.length, countsByCode, files: paths },
      'rules loaded with warnings',
    )
  }
  const enabled = rules.rules.filter((rule) => rule.enabled).length
  log.info(
    { files: paths, rules: rules.rules.length, enabled, warnings: rules.warnings.length },
    'rules loaded',
  )
  return rules
}
