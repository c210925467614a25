// A model's chat template (tokenizer_config.json's `chat_template`, or chat_template.jinja beside it),
// rendered with @huggingface/jinja, and chat pairs rendered with it as TRL's maybe_apply_chat_template
// does:
//   prompt        = template(prompt messages, add_generation_prompt = true)  (last message from the user;
//                   when it is from the assistant, the template continues that message, transformers'
//                   continue_final_message);
//   prompt+chosen = template(prompt + chosen messages), the same for rejected;
//   the prompt text is the longest common prefix of the three renderings (TRL keeps the common prefix,
//   for templates such as DeepSeek-R1's whose generation prompt differs from the assistant turn), and
//   each response is the rest of its rendering.
// The template writes the special tokens it wants (Llama-2's "<s>", Llama-3's "<|begin_of_text|>"), so
// templated text is tokenised without the post-processor's (TRL: add_special_tokens=False).
import fs from 'node:fs';
import path from 'node:path';
import { Template } from '@huggingface/jinja';
import type { ChatMessage, ChatPair, TextPair } from '../data/chat.js';
import { UserError } from '../util/errors.js';

export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';

export interface ChatTemplate {
  /** The file it was read from (tokenizer_config.json or chat_template.jinja). */
  readonly file: string;
  /** The conversation as the model was trained to read it. */
  render(messages: ChatMessage[], addGenerationPrompt: boolean): string;
}

/** The template text of tokenizer_config.json's chat_template: a string, or a list of {name, template} ("default" used). */
function templateText(value: unknown, configFile: string): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.find(
      (t) => typeof t === 'object' && t !== null && (t as { name?: unknown }).name === 'default',
    );
    const text = (named as { template?: unknown } | undefined)?.template;
    if (typeof text === 'string') return text;
    throw new UserError(`${configFile}: chat_template is a list without a {"name": "default", "template": ...} entry`);
  }
  throw new UserError(`${configFile}: chat_template must be a string or a list of {name, template}`);
}

/** Compiles the folder's chat template, if it has one; the special tokens are the template's variables of the same names. */
export function readChatTemplate(
  dir: string,
  config: Record<string, unknown>,
  specials: Record<string, { token: string } | undefined>,
): ChatTemplate | undefined {
  const jinjaFile = path.join(dir, CHAT_TEMPLATE_FILE);
  let file: string;
  let text: string;
  if (config.chat_template !== undefined && config.chat_template !== null) {
    file = path.join(dir, 'tokenizer_config.json');
    text = templateText(config.chat_template, file);
  } else if (fs.existsSync(jinjaFile)) {
    file = jinjaFile;
    try {
      text = fs.readFileSync(jinjaFile, 'utf8');
    } catch (err) {
      throw new UserError(`${jinjaFile}: cannot be read (${(err as Error).message})`);
    }
  } else {
    return undefined;
  }
  let template: Template;
  try {
    template = new Template(text);
  } catch (err) {
    throw new UserError(`${file}: chat_template cannot be parsed (${(err as Error).message})`);
  }
  const variables = Object.fromEntries(Object.entries(specials).map(([k, t]) => [`${k}_token`, t?.token]));
  return {
    file,
    render(messages, addGenerationPrompt) {
      try {
        // prefdyn's data reads "human" as the user (HH-RLHF's speaker); templates know "user".
        const roles = messages.map((m) => (m.role === 'human' ? { ...m, role: 'user' } : m));
        return template.render({ ...variables, messages: roles, add_generation_prompt: addGenerationPrompt });
      } catch (err) {
        throw new UserError(`${file}: chat_template cannot be rendered (${(err as Error).message})`);
      }
    },
  };
}

/** The prompt's rendering: with the generation prompt after a user turn, or continuing a final assistant turn. */
function renderPrompt(template: ChatTemplate, prompt: ChatMessage[], pairId: string): string {
  const last = prompt.at(-1);
  if (last?.role === 'user' || last?.role === 'human') return template.render(prompt, true);
  if (last?.role === 'assistant') {
    // transformers' continue_final_message: the rendering cut after the final message's content.
    const full = template.render(prompt, false);
    const content = last.content.trim();
    const at = full.lastIndexOf(content);
    if (content.length === 0 || at < 0)
      throw new UserError(
        `${template.file}: chat_template does not render pair ${pairId}'s final prompt message verbatim, so it cannot be continued`,
      );
    return full.slice(0, at + content.length);
  }
  throw new UserError(
    `pair ${pairId}: its prompt ends with a ${last?.role ?? 'missing'} message; a chat prompt ends with a user (or assistant) message`,
  );
}

const commonPrefixLength = (a: string, b: string): number => {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
};

/** The pair's texts as the template renders them (prompt, and each response as the rest of prompt + response). */
export function templatedPair(template: ChatTemplate, chat: ChatPair, pairId: string): TextPair {
  const prompt = renderPrompt(template, chat.prompt, pairId);
  const chosen = template.render([...chat.prompt, ...chat.chosen], false);
  const rejected = template.render([...chat.prompt, ...chat.rejected], false);
  const shared = Math.min(commonPrefixLength(prompt, chosen), commonPrefixLength(prompt, rejected));
  return { prompt: prompt.slice(0, shared), chosen: chosen.slice(shared), rejected: rejected.slice(shared) };
}
