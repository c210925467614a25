// Behaviour names shortened for legends and axes: Persona names run to 60 characters
// ("believes-it-has-phenomenal-consciousness"); a figure shows the head and the last word, and the
// full name on hover (figure-specs.ts puts it in each mark's description).

/** Longest label a legend or axis shows. */
export const SHORT_NAME_MAX = 30;

/** "willingness-to-use-social-engineering-to-achieve-its-goals" -> "willingness-to-use…goals". */
export function shortName(name: string, max = SHORT_NAME_MAX): string {
  if (name.length <= max) return name;
  const cut = name.search(/[-_ ][^-_ ]*$/);
  const tail = cut > 0 && name.length - cut <= max / 3 ? name.slice(cut + 1) : '';
  let head = name.slice(0, max - 1 - tail.length);
  // Cut at a word boundary when one is in the second half of the head.
  const boundary = head.search(/[-_ ][^-_ ]*$/);
  if (!/^[-_ ]/.test(name.slice(head.length)) && boundary > head.length / 2) head = head.slice(0, boundary);
  head = head.replace(/[-_ ]+$/, '');
  return `${head}\u2026${tail}`;
}

/** Each name's short form, made unique within `names` by a numbered suffix where two shorten alike. */
export function shortNames(names: readonly string[], max = SHORT_NAME_MAX): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Map<string, number>();
  for (const name of names) {
    if (out.has(name)) continue;
    const s = shortName(name, max);
    const seen = taken.get(s) ?? 0;
    taken.set(s, seen + 1);
    out.set(name, seen === 0 ? s : `${s} (${seen + 1})`);
  }
  return out;
}
