/** First retry of an alert after 5 s, doubling, at most an hour apart; never given up. */
export const OUTBOX_BACKOFF = { baseMs: 5_000, maxMs: 60 * 60_000 } as const;

/**
 * The wait before the next delivery attempt after `attempts` failed ones. `jitter` in [0, 1)
 * (the caller's random number) spreads retries of many alerts by up to a fifth of the delay.
 */
export function outboxRetryDelay(
  attempts: number,
  options: { jitter?: number; baseMs?: number; maxMs?: number } = {},
): number {
  const base = options.baseMs ?? OUTBOX_BACKOFF.baseMs;
  const max = options.maxMs ?? OUTBOX_BACKOFF.maxMs;
  const raw = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(Math.min(max, raw * (1 + (options.jitter ?? 0) / 5)));
}
