import { z } from 'zod';

/**
 * Events written by sandbox/netsvc.py, one JSON object per stdout line. `time` is Unix time in
 * seconds; `data_b64` is base64 of the first bytes the sandboxed client sent (at most 64 KiB).
 */
export const ReadyEvent = z.object({
  type: z.literal('ready'),
  time: z.number(),
  pid: z.number().int(),
  dns_port: z.number().int(),
  tcp_port: z.number().int(),
  udp_port: z.number().int(),
  index_port: z.number().int().nullable(),
  ipv6: z.boolean(),
});

export const DnsEvent = z.object({
  type: z.literal('dns'),
  time: z.number(),
  transport: z.enum(['udp', 'tcp']),
  name: z.string(),
  qtype: z.string(),
  answer: z.string().nullable(),
  /** Original destination of the query (ip:port, [ip]:port for IPv6). */
  server: z.string().nullable(),
  client: z.string(),
});
export type DnsEvent = z.infer<typeof DnsEvent>;

const captured = {
  time: z.number(),
  /** Original destination the client connected or sent to. */
  ip: z.string(),
  port: z.number().int().min(0).max(65535),
  hostname: z.string().nullable(),
  client: z.string(),
  data_b64: z.base64(),
  truncated: z.boolean(),
  sent_bytes: z.number().int().nonnegative(),
};

export const TcpEvent = z.object({
  type: z.literal('tcp'),
  ...captured,
  duration_ms: z.number(),
  /** True when the connection was still open when the services stopped. */
  open: z.boolean(),
  note: z.string().optional(),
});
export type TcpEvent = z.infer<typeof TcpEvent>;

export const UdpEvent = z.object({ type: z.literal('udp'), ...captured });
export type UdpEvent = z.infer<typeof UdpEvent>;

export const ErrorEvent = z.object({
  type: z.literal('error'),
  time: z.number(),
  where: z.string(),
  message: z.string(),
});

export const StatsEvent = z.object({
  type: z.literal('stats'),
  time: z.number(),
  dns: z.number().int(),
  tcp: z.number().int(),
  udp: z.number().int(),
  errors: z.number().int(),
  /** Events not written because the event budget was spent. */
  dropped: z.number().int(),
});

export const CaptureEvent = z.discriminatedUnion('type', [
  ReadyEvent,
  DnsEvent,
  TcpEvent,
  UdpEvent,
  ErrorEvent,
  StatsEvent,
]);
export type CaptureEvent = z.infer<typeof CaptureEvent>;
