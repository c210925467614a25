// Chat-format rows ([{role, content}] message lists) rendered as text in the HH-RLHF transcript
// format, "\n\nHuman: ...\n\nAssistant: ...", so every pair is prompt/chosen/rejected strings with the
// prompt ending in the speaker tag of the response and each response starting with " " (as hh-rlhf does).
// Roles: "user" (or "human") renders as Human, "assistant" as Assistant, "system" as System; any other
// role is an error naming the field and the role.
import { DataError, type RowLocation } from './errors.js';
import { isJsonObject, jsonTypeName } from './json-row.js';

export interface ChatMessage {
  role: string;
  content: string;
}

const SPEAKERS: Record<string, string> = { user: 'Human', human: 'Human', assistant: 'Assistant', system: 'System' };

function speaker(role: string): string {
  return SPEAKERS[role]!;
}

/** `value` checked as a non-empty list of {role, content} strings; errors name e.g. "chosen[1].content". */
export function chatMessages(value: unknown[], field: string, loc: RowLocation): ChatMessage[] {
  if (value.length === 0) throw new DataError({ ...loc, field }, 'is an empty message list');
  return value.map((m, i) => {
    if (!isJsonObject(m)) throw new DataError({ ...loc, field: `${field}[${i}]` }, `expected a {role, content} object, got ${jsonTypeName(m)}`);
    for (const key of ['role', 'content'] as const) {
      if (typeof m[key] !== 'string') {
        const got = m[key] === undefined ? 'missing; every message needs role and content strings' : `expected a string, got ${jsonTypeName(m[key])}`;
        throw new DataError({ ...loc, field: `${field}[${i}].${key}` }, got);
      }
    }
    const role = m.role as string;
    if (!Object.hasOwn(SPEAKERS, role))
      throw new DataError({ ...loc, field: `${field}[${i}].role` }, `is "${role}"; expected system, user or assistant (or human)`);
    return { role, content: m.content as string };
  });
}

function renderTurns(messages: ChatMessage[]): string {
  return messages.map((m) => `\n\n${speaker(m.role)}: ${m.content}`).join('');
}

export interface TextPair {
  prompt: string;
  chosen: string;
  rejected: string;
}

/** prompt messages + the two continuations, rendered as text. Both responses must start with the same role. */
export function renderChatPair(prompt: ChatMessage[], chosen: ChatMessage[], rejected: ChatMessage[], loc: RowLocation): TextPair {
  const role = chosen[0]!.role;
  if (rejected[0]!.role !== role) {
    throw new DataError({ ...loc, field: 'rejected[0].role' }, `is "${rejected[0]!.role}" but chosen starts with "${role}"; both responses must start with the same role`);
  }
  const response = (msgs: ChatMessage[]) => ` ${msgs[0]!.content}${renderTurns(msgs.slice(1))}`;
  return { prompt: `${renderTurns(prompt)}\n\n${speaker(role)}:`, chosen: response(chosen), rejected: response(rejected) };
}

const sameMessage = (a: ChatMessage, b: ChatMessage) => a.role === b.role && a.content === b.content;

/** A chat pair as message lists: the prompt and the two continuations (pair.meta.chat). */
export interface ChatPair {
  prompt: ChatMessage[];
  chosen: ChatMessage[];
  rejected: ChatMessage[];
}

/** Implicit-prompt chat rows (TRL's extract_prompt): the shared leading messages are the prompt, the rest the two responses. */
export function splitChatConversations(chosen: ChatMessage[], rejected: ChatMessage[], loc: RowLocation): ChatPair {
  let shared = 0;
  while (shared < chosen.length && shared < rejected.length && sameMessage(chosen[shared]!, rejected[shared]!)) shared++;
  if (shared === 0) throw new DataError({ ...loc, field: 'chosen' }, 'shares no leading messages with rejected, so there is no prompt; give a prompt field or start both conversations with the same messages');
  if (shared === chosen.length || shared === rejected.length) {
    throw new DataError({ ...loc, field: 'chosen' }, 'and rejected do not differ after their shared messages; each needs its own final response');
  }
  return { prompt: chosen.slice(0, shared), chosen: chosen.slice(shared), rejected: rejected.slice(shared) };
}

/** The chat messages a pair was read from (meta.chat), when it was read from message lists. */
export function pairChat(meta: Record<string, unknown>): ChatPair | undefined {
  return meta.chat as ChatPair | undefined;
}
