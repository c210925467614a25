// Parsing one JSON row and checking the type of its fields, with errors that say where and what.
import { DataError, type RowLocation } from './errors.js';

/** A JSON type name for messages: "string", "number", "array", "object", "null", ... */
export function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One .jsonl line as a JSON object. */
export function parseJsonLine(text: string, loc: RowLocation): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DataError(loc, `not valid JSON (${(err as Error).message}); each line must be one JSON object`);
  }
  return requireObject(value, loc);
}

export function requireObject(value: unknown, loc: RowLocation): JsonObject {
  if (!isJsonObject(value)) throw new DataError(loc, `expected a JSON object, got ${jsonTypeName(value)}`);
  return value;
}

/** row[field] as a string; missing or another type is an error naming the field. */
export function requireString(row: JsonObject, field: string, loc: RowLocation, hint = ''): string {
  const value = row[field];
  if (value === undefined) throw new DataError({ ...loc, field }, `missing${hint ? `; ${hint}` : ''}`);
  if (typeof value !== 'string') throw new DataError({ ...loc, field }, `expected a string, got ${jsonTypeName(value)}`);
  return value;
}
