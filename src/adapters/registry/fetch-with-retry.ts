import { setTimeout as sleep } from 'node:timers/promises';
import { PkghuntError } from '../../core/errors.ts';

export interface FetchRetryOptions {
  headers?: Record<string, string>;
  /** Extra attempts after the first, for 429, 5xx and transient network errors. */
  retries?: number;
  baseDelayMs?: number;
  /** Upper bound of one wait, Retry-After included. */
  maxDelayMs?: number;
  /** Time allowed until the response headers arrive. */
  timeoutMs?: number;
  /** Time allowed for the whole exchange, body included. */
  totalTimeoutMs?: number;
}

/** Network errors where another try may help; a refused connection or unknown host will not change soon. */
const TRANSIENT = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'EAI_AGAIN',
]);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/** Retry-After in ms (delta-seconds or HTTP date), or null. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function unreachable(url: string, why: string, cause: unknown): PkghuntError {
  return new PkghuntError('INDEX_UNREACHABLE', `Cannot reach the package index at ${url}: ${why}`, {
    hint: 'Check the index URL (--index-url, PIP_INDEX_URL or pip config) and the network, then retry.',
    cause,
  });
}

/**
 * GET with bounded retries and exponential back-off. Resolves with the final response (which may
 * still be a 4xx/5xx once retries are spent); network failures become INDEX_UNREACHABLE.
 */
export async function fetchWithRetry(url: string, options: FetchRetryOptions = {}): Promise<Response> {
  const retries = options.retries ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 15_000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const total = AbortSignal.timeout(options.totalTimeoutMs ?? 15 * 60_000);
  for (let attempt = 0; ; attempt++) {
    const headersTimer = new AbortController();
    const timer = setTimeout(() => headersTimer.abort(new Error('timed out')), timeoutMs);
    let response: Response | null = null;
    let failure: unknown = null;
    try {
      response = await fetch(url, {
        headers: options.headers ?? {},
        redirect: 'follow',
        signal: AbortSignal.any([total, headersTimer.signal]),
      });
    } catch (error) {
      failure = error;
    } finally {
      clearTimeout(timer);
    }
    const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
    if (response !== null) {
      const retryable = response.status === 429 || response.status >= 500;
      if (!retryable || attempt >= retries) return response;
      const asked = parseRetryAfter(response.headers.get('retry-after'));
      await response.body?.cancel().catch(() => undefined);
      await sleep(Math.min(maxDelayMs, asked ?? backoff));
      continue;
    }
    const code = errorCode(failure);
    const timedOut = headersTimer.signal.aborted || total.aborted;
    const why = timedOut
      ? 'timed out'
      : (code ?? (failure instanceof Error ? failure.message : String(failure)));
    if (total.aborted || attempt >= retries || (!timedOut && (code === undefined || !TRANSIENT.has(code)))) {
      throw unreachable(url, why, failure);
    }
    await sleep(backoff);
  }
}
