// Plain-text tables for the data commands: columns padded to their widest cell.

/** `align[i]` "r" right-aligns column i (numbers); anything else left-aligns. */
export function formatTable(header: string[], rows: string[][], align: string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** 133204 -> "133,204". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
