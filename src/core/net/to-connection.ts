import type { Connection } from '../record/schema.ts';
import type { TcpEvent, UdpEvent } from './capture-event.ts';
import { escapePreview } from './escape-preview.ts';
import { parseHttpRequestHead } from './parse-http-request-head.ts';
import { parseTlsClientHelloSni } from './parse-tls-client-hello-sni.ts';

/**
 * Turns a sinkhole capture into the record's Connection. `phaseStartedAt` (Unix ms) makes `time`
 * relative to the phase; `pids` stays empty here: the trace, not the sinkhole, knows who connected.
 */
export function toConnection(event: TcpEvent | UdpEvent, phaseStartedAt: number): Connection {
  const bytes = decodeBase64(event.data_b64);
  return {
    protocol: event.type,
    ip: event.ip,
    port: event.port,
    hostname: event.hostname,
    sent_bytes: event.sent_bytes,
    sent_preview: escapePreview(bytes),
    http: event.type === 'tcp' ? parseHttpRequestHead(bytes) : null,
    tls_sni: event.type === 'tcp' ? parseTlsClientHelloSni(bytes) : null,
    time: relativeSeconds(event.time, phaseStartedAt),
    pids: [],
  };
}

/** Seconds since the phase started, to the millisecond, never negative. */
export function relativeSeconds(unixSeconds: number, phaseStartedAt: number): number {
  return Math.max(0, Math.round(unixSeconds * 1000 - phaseStartedAt) / 1000);
}

export function decodeBase64(data: string): Uint8Array {
  const binary = atob(data);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
