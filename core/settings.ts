import { z } from 'zod'
import type { Setting } from './config.js'

interface Common<T> {
  env: string
  description: string
  default?: T
  isSecret?: boolean
}

/** Creates a free-text setting; `optional` settings may stay unset and are then undefined. */
export function textSetting(
  options: Common<string> & { optional?: boolean; minLength?: number },
): Setting<string> {
  const base = z.string().min(options.minLength ?? 1, 'must not be empty')
  return {
    ...options,
    schema: (options.optional === true ? base.optional() : base) as z.ZodType<string>,
    fromText: (text) => text,
  }
}

/** Creates a whole-number setting within [min, max]. Text values must be plain decimal integers. */
export function integerSetting<Optional extends boolean = false>(
  options: Common<number> & { min?: number; max?: number; optional?: Optional },
): Setting<Optional extends true ? number | undefined : number> {
  let schema = z.number({ error: 'must be a whole number' }).int('must be a whole number')
  if (options.min !== undefined) schema = schema.min(options.min, `must be at least ${options.min}`)
  if (options.max !== undefined) schema = schema.max(options.max, `must be at most ${options.max}`)
  const checked = options.optional === true ? schema.optional() : schema
  return { ...options, schema: checked as never, fromText: parseInteger }
}

/** Creates a decimal setting within [min, max], such as a ratio or a rate. */
export function numberSetting(
  options: Common<number> & { min?: number; max?: number },
): Setting<number> {
  let schema = z.number({ error: 'must be a number' })
  if (options.min !== undefined) schema = schema.min(options.min, `must be at least ${options.min}`)
  if (options.max !== undefined) schema = schema.max(options.max, `must be at most ${options.max}`)
  return { ...options, schema, fromText: parseDecimal }
}

/** Creates a true-or-false setting. Text values accept true/false, 1/0, yes/no and on/off. */
export function booleanSetting(options: Common<boolean>): Setting<boolean> {
  return {
    ...options,
    schema: z.boolean({ error: 'must be true or false' }),
    fromText: parseBoolean,
  }
}

/** Creates a setting that takes one value of a fixed list. */
export function choiceSetting<T extends string>(
  options: Common<T> & { choices: readonly T[] },
): Setting<T> {
  const schema = z.enum(options.choices as [T, ...T[]], {
    error: `must be one of: ${options.choices.join(', ')}`,
  }) as unknown as z.ZodType<T>
  return { ...options, schema, fromText: (text) => text }
}

/**
 * Creates a list-of-strings setting. Text values are comma-separated; empty items are dropped.
 * With `itemPattern`, every item must match it, described by `itemDescription` in errors.
 */
export function listSetting(
  options: Common<string[]> & { minItems?: number; itemPattern?: RegExp; itemDescription?: string },
): Setting<string[]> {
  let item = z.string().min(1, 'items must not be empty')
  if (options.itemPattern !== undefined) {
    const pattern = options.itemPattern
    item = item.refine((text) => pattern.test(text), {
      error: (issue) =>
        `item ${JSON.stringify(issue.input)} must be ${options.itemDescription ?? `like ${pattern}`}`,
    }) as unknown as typeof item
  }
  const schema = z
    .array(item, { error: 'must be a list of strings' })
    .min(options.minItems ?? 0, `must have at least ${options.minItems ?? 0} item(s)`)
  return { ...options, schema, fromText: splitList }
}

/** Creates an http or https URL setting. */
export function urlSetting(options: Common<string> & { optional?: boolean }): Setting<string> {
  const base = z.string().refine(isHttpUrl, 'must be an http:// or https:// URL')
  return {
    ...options,
    schema: (options.optional === true ? base.optional() : base) as z.ZodType<string>,
    fromText: (text) => text,
  }
}

/** Creates a setting that maps names to strings, such as extra HTTP headers. Text values are JSON objects. */
export function mapSetting(
  options: Common<Record<string, string>>,
): Setting<Record<string, string>> {
  const schema = z.record(z.string(), z.string(), { error: 'must be a map of names to strings' })
  return { ...options, schema, fromText: parseJsonObject }
}

function parseInteger(text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new Error('must be a whole number')
  return Number(text.trim())
}

function parseDecimal(text: string): number {
  if (!/^-?(\d+\.?\d*|\.\d+)$/.test(text.trim())) throw new Error('must be a decimal number')
  return Number(text.trim())
}

function parseBoolean(text: string): boolean {
  const lower = text.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(lower)) return true
  if (['false', '0', 'no', 'off'].includes(lower)) return false
  throw new Error('must be true or false (also accepted: yes/no, 1/0, on/off)')
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

function parseJsonObject(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    // The parser's own message quotes the text around the error, which may be a secret header.
    throw new Error('must be a JSON object such as {"X-Name":"value"}')
  }
}
