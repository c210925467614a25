// Non-finite values (NaN, +-Infinity) stop a command where they appear: found here, reported by the
// caller with the row or tensor they sit in, so no NaN reaches a file as `null` or a ranking as a number.

/** Index of the first value of `values[start, end)` that is NaN or infinite, or -1 when all are finite. */
export function firstNonFinite(values: ArrayLike<number>, start = 0, end = values.length): number {
  for (let i = start; i < end; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}
