import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PkghuntError } from '../../core/errors.ts';
import { type Alert, genericPayload, slackPayload } from '../../core/feed/alert.ts';

export const WebhookKind = z.enum(['generic', 'slack']);
export type WebhookKind = z.infer<typeof WebhookKind>;

export interface Webhook {
  kind: WebhookKind;
  url: string;
  /** `kind:sha256(url)[:16]`: what the outbox stores instead of the URL (a secret for Slack). */
  id: string;
}

export function webhook(kind: WebhookKind, url: string, source: string): Webhook {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PkghuntError(
      'USAGE',
      `Cannot use the webhook ${JSON.stringify(url)} from ${source}: not a URL`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new PkghuntError('USAGE', `Cannot use the webhook from ${source}: not an http(s):// URL`);
  }
  const id = `${kind}:${createHash('sha256').update(parsed.href).digest('hex').slice(0, 16)}`;
  return { kind, url: parsed.href, id };
}

/** The Idempotency-Key of an alert: the same on every retry and every restart, so receivers can dedupe. */
export function idempotencyKey(alert: Alert, hook: Webhook): string {
  return createHash('sha256').update(`${alert.key}\n${hook.id}`).digest('hex').slice(0, 32);
}

export type DeliveryResult = { ok: true; status: number } | { ok: false; error: string };

/**
 * POSTs one alert to one webhook (the generic JSON or the Slack body) with an Idempotency-Key
 * header. Sent means a 2xx answer; anything else is a failure the outbox retries later.
 */
export async function sendAlert(
  alert: Alert,
  hook: Webhook,
  options: { timeoutMs?: number } = {},
): Promise<DeliveryResult> {
  const body = hook.kind === 'slack' ? slackPayload(alert) : genericPayload(alert);
  try {
    const response = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Idempotency-Key': idempotencyKey(alert, hook),
        'User-Agent': 'pkghunt-watch',
      },
      body: JSON.stringify(body),
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
    return { ok: false, error: `the webhook answered ${response.status}` };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
    return {
      ok: false,
      error: `${error instanceof Error ? error.message : String(error)}${cause ? `: ${cause}` : ''}`,
    };
  }
}
