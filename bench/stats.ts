export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

/** Median, min and max of the samples; null when there are none (a variant that always failed). */
export function summarize(samples: readonly number[]): Summary | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { n: sorted.length, median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0 };
}

/**
 * The order of the variants in one round for one package: rotated so that each variant runs
 * first, second and third equally often, and slow drifts of a shared machine hit all of them.
 */
export function interleave<T>(variants: readonly T[], round: number, packageIndex: number): T[] {
  const shift = (round + packageIndex) % Math.max(1, variants.length);
  return [...variants.slice(shift), ...variants.slice(0, shift)];
}
