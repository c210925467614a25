// Option values: every command-line option and config-file key that takes a number, a choice, a list
// or a flag is converted here, so the same mistake reads the same in every command:
//   <name> must be <what>, got <value>        (a UserError: exit 1)
// `name` is what the user typed ("--lr"), prefixed with the file for values from a config file.
// Whether an option is given at all (a usage matter, exit 2) is the caller's check.
import { UserError } from './errors.js';

/** Bounds of a number option; `gt`/`lt` are exclusive, `min`/`max` inclusive. */
export interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  gt?: number;
  lt?: number;
}

export const NON_NEGATIVE_INTEGER: NumberRule = { integer: true, min: 0 };
export const POSITIVE_INTEGER: NumberRule = { integer: true, min: 1 };
export const POSITIVE_NUMBER: NumberRule = { gt: 0 };
export const NON_NEGATIVE_NUMBER: NumberRule = { min: 0 };
/** A share in [0, 1). */
export const FRACTION: NumberRule = { min: 0, lt: 1 };

// Decimal numbers only: no hex, no "Infinity", no empty string (Number() accepts all three).
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** The error every converter throws: `<name> must be <want>, got <raw>` (strings quoted, as typed). */
export function badValue(name: string, want: string, raw: unknown): UserError {
  return new UserError(`${name} must be ${want}, got ${JSON.stringify(raw) ?? String(raw)}`);
}

/** "an integer >= 1", "a number in [0, 1)", "a number > 0": the rule in words. */
export function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a number';
  const low = rule.min !== undefined ? `[${rule.min}` : rule.gt !== undefined ? `(${rule.gt}` : undefined;
  const high = rule.max !== undefined ? `${rule.max}]` : rule.lt !== undefined ? `${rule.lt})` : undefined;
  if (low !== undefined && high !== undefined) return `${kind} in ${low}, ${high}`;
  if (rule.min !== undefined) return `${kind} >= ${rule.min}`;
  if (rule.gt !== undefined) return `${kind} > ${rule.gt}`;
  if (rule.max !== undefined) return `${kind} <= ${rule.max}`;
  if (rule.lt !== undefined) return `${kind} < ${rule.lt}`;
  return kind;
}

/** A number from a command-line string or a config-file number, within `rule`. */
export function parseNumber(name: string, raw: unknown, rule: NumberRule = {}): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  const ok =
    Number.isFinite(n) &&
    (!rule.integer || Number.isSafeInteger(n)) &&
    (rule.min === undefined || n >= rule.min) &&
    (rule.max === undefined || n <= rule.max) &&
    (rule.gt === undefined || n > rule.gt) &&
    (rule.lt === undefined || n < rule.lt);
  if (!ok) throw badValue(name, describeRule(rule), raw);
  return n;
}

/** One of `choices`. */
export function parseChoice<T extends string>(name: string, raw: unknown, choices: readonly T[]): T {
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw))
    throw badValue(name, `one of ${choices.join(', ')}`, raw);
  return raw as T;
}

/** A non-empty list: "a,b" from the command line (blanks dropped), or a list of strings from a config file. */
export function parseList(name: string, raw: unknown): string[] {
  const list =
    typeof raw === 'string'
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : raw;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string'))
    throw badValue(name, 'a comma-separated list', raw);
  return list as string[];
}

/** true or false (a config file's boolean, or the words). */
export function parseBoolean(name: string, raw: unknown): boolean {
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw badValue(name, 'true or false', raw);
}

/** A non-empty string. */
export function parseText(name: string, raw: unknown): string {
  if (typeof raw !== 'string' || raw === '') throw badValue(name, 'a non-empty string', raw);
  return raw;
}
