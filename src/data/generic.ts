// Rows of a user's .jsonl/.json file -> pairs. Columns (renamable, see FieldMap): prompt (optional),
// chosen, rejected, group, id. Values are all strings or all chat message lists; without a prompt,
// chosen and rejected hold the whole conversation and the prompt is their shared beginning.
// A column named by a --*-field option must be in every row. Each text (prompt, chosen, rejected, as
// rendered) may hold at most MAX_TEXT_CHARS characters: longer ones are refused before tokenising.
import { chatMessages, renderChatPair, splitChatConversations, type ChatPair, type TextPair } from './chat.js';
import { DataError, type RowLocation } from './errors.js';
import { jsonTypeName, type JsonObject } from './json-row.js';
import { yesNoLabel, type PreferencePair } from './pair.js';
import { splitSharedPrefix } from './shared-prefix.js';
import { DEFAULT_FIELDS, DEFAULT_GROUP_FIELDS, type FieldMap } from './source-options.js';

/** The most characters (UTF-16 code units) a prompt or response may hold: a bound on tokenising time and memory. */
export const MAX_TEXT_CHARS = 1_000_000;

export interface GenericRowContext {
  loc: RowLocation;
  fields: FieldMap;
  /** True when --prompt-field named the prompt column: every row must have it. */
  promptRequired: boolean;
  /** The file name without extension: the group when rows have none, and the stem of generated ids. */
  fileStem: string;
  /** 0-based line index (.jsonl) or array index (.json): generated ids are "<fileStem>/<index>". */
  index: number;
}

type Side = string | unknown[];

function sideValue(row: JsonObject, field: string, loc: RowLocation): Side | undefined {
  const value = row[field];
  if (value === undefined) return undefined;
  if (typeof value === 'string' || Array.isArray(value)) return value;
  throw new DataError({ ...loc, field }, `expected a string or a list of {role, content} messages, got ${jsonTypeName(value)}`);
}

function requiredSide(row: JsonObject, field: string, role: string, flag: string, loc: RowLocation): Side {
  const value = sideValue(row, field, loc);
  if (value === undefined) throw new DataError({ ...loc, field }, `missing; every row needs the ${role} response (use ${flag} to read another column)`);
  return value;
}

function textPair(row: JsonObject, ctx: GenericRowContext): { text: TextPair; chat?: ChatPair } {
  const { fields, loc } = ctx;
  const prompt = sideValue(row, fields.prompt, loc);
  if (prompt === undefined && ctx.promptRequired)
    throw new DataError({ ...loc, field: fields.prompt }, 'missing; --prompt-field names a column every row must have');
  const chosen = requiredSide(row, fields.chosen, 'chosen', '--chosen-field', loc);
  const rejected = requiredSide(row, fields.rejected, 'rejected', '--rejected-field', loc);
  const isChat = Array.isArray(chosen);
  for (const [field, value] of [[fields.rejected, rejected], [fields.prompt, prompt]] as const) {
    if (value !== undefined && Array.isArray(value) !== isChat) {
      throw new DataError({ ...loc, field }, `is ${Array.isArray(value) ? 'a message list' : 'a string'} but ${fields.chosen} is ${isChat ? 'a message list' : 'a string'}; use strings for all or message lists for all`);
    }
  }
  if (isChat) {
    const c = chatMessages(chosen, fields.chosen, loc);
    const r = chatMessages(rejected as unknown[], fields.rejected, loc);
    const chat =
      prompt === undefined
        ? splitChatConversations(c, r, loc)
        : { prompt: chatMessages(prompt as unknown[], fields.prompt, loc), chosen: c, rejected: r };
    // Rendered as a transcript here; a model's chat template renders meta.chat instead (tokenizer/chat-template.ts).
    return { text: renderChatPair(chat.prompt, chat.chosen, chat.rejected, loc), chat };
  }
  if (prompt === undefined) {
    const split = splitSharedPrefix(chosen, rejected as string);
    if ('reason' in split) throw new DataError({ ...loc, field: fields.chosen }, split.reason);
    return { text: split };
  }
  return { text: { prompt: prompt as string, chosen, rejected: rejected as string } };
}

function groupOf(row: JsonObject, ctx: GenericRowContext): string {
  const candidates = ctx.fields.group ? [ctx.fields.group] : DEFAULT_GROUP_FIELDS;
  for (const field of candidates) {
    const value = row[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length === 0) {
      throw new DataError({ ...ctx.loc, field }, `expected the group name as a non-empty string, got ${typeof value === 'string' ? 'an empty string' : jsonTypeName(value)}`);
    }
    return value;
  }
  if (ctx.fields.group) throw new DataError({ ...ctx.loc, field: ctx.fields.group }, 'missing; --group-field names a column every row must have');
  return ctx.fileStem;
}

function idOf(row: JsonObject, ctx: GenericRowContext): string {
  const field = ctx.fields.id ?? 'id';
  const value = row[field];
  if (value === undefined) {
    if (ctx.fields.id) throw new DataError({ ...ctx.loc, field }, 'missing; --id-field names a column every row must have');
    return `${ctx.fileStem}/${ctx.index}`;
  }
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new DataError({ ...ctx.loc, field }, `expected the id as a non-empty string or a number, got ${jsonTypeName(value)}`);
}

/** One row as a pair; throws DataError naming the field when the row is not usable. */
export function genericPair(row: JsonObject, ctx: GenericRowContext): PreferencePair {
  const { text, chat } = textPair(row, ctx);
  for (const side of ['prompt', 'chosen', 'rejected'] as const) {
    const n = text[side].length;
    if (n > MAX_TEXT_CHARS)
      throw new DataError(
        { ...ctx.loc, field: ctx.fields[side] },
        `holds ${n.toLocaleString('en-US')} characters; a text may hold at most ${MAX_TEXT_CHARS.toLocaleString('en-US')}`,
      );
  }
  for (const [field, value] of [[ctx.fields.chosen, text.chosen], [ctx.fields.rejected, text.rejected]] as const) {
    if (value.length === 0) throw new DataError({ ...ctx.loc, field }, 'is empty; a response needs at least one character');
  }
  if (text.chosen === text.rejected) throw new DataError({ ...ctx.loc, field: ctx.fields.chosen }, `is identical to ${ctx.fields.rejected}; a pair needs two different responses`);
  const meta: Record<string, unknown> = {};
  const label = yesNoLabel(text.chosen, text.rejected);
  if (label !== undefined) meta.label = label;
  if (chat) meta.chat = chat;
  return { id: idOf(row, ctx), group: groupOf(row, ctx), ...text, meta };
}

export function fieldMap(fields: Partial<FieldMap> | undefined): FieldMap {
  return { ...DEFAULT_FIELDS, ...Object.fromEntries(Object.entries(fields ?? {}).filter(([, v]) => v !== undefined)) };
}
