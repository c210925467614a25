// The counted words of messages and reports: "1 seed", "3 seeds".

/** `word` for a count of 1, else `word` + "s" (every word counted here takes a plain s). */
export function plural(word: string, count: number): string {
  return count === 1 ? word : `${word}s`;
}
