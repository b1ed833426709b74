import type { StraceValue } from './strace-event.ts';

export type SocketAddress =
  | { family: 'AF_INET' | 'AF_INET6'; ip: string; port: number }
  | { family: 'AF_UNIX'; path: string; abstract: boolean }
  | { family: string };

/** Reads a sockaddr struct as strace prints it; null when the value is not one (NULL, a pointer). */
export function readSockaddr(value: StraceValue | undefined): SocketAddress | null {
  if (value?.kind !== 'struct') return null;
  const family = rawField(value, 'sa_family');
  if (!family) return null;
  if (family === 'AF_INET' || family === 'AF_INET6') {
    const port = portOf(findField(value, family === 'AF_INET' ? 'sin_port' : 'sin6_port'));
    const ip = family === 'AF_INET' ? inet4(value) : inet6(value);
    if (port === null || ip === null) return { family };
    return { family, ip, port };
  }
  if (family === 'AF_UNIX' || family === 'AF_LOCAL') {
    const path = findField(value, 'sun_path');
    if (path?.kind === 'string') return { family: 'AF_UNIX', path: path.value, abstract: path.abstract };
    return { family: 'AF_UNIX', path: '', abstract: false };
  }
  return { family };
}

/** Finds `name=value` among a struct's items. */
export function findField(value: StraceValue | undefined, name: string): StraceValue | undefined {
  if (value?.kind !== 'struct') return undefined;
  for (const item of value.items) if (item.kind === 'field' && item.name === name) return item.value;
  return undefined;
}

function rawField(value: StraceValue, name: string): string | null {
  const field = findField(value, name);
  return field?.kind === 'raw' ? field.text : null;
}

function portOf(value: StraceValue | undefined): number | null {
  if (value?.kind === 'call' && value.name === 'htons') {
    const arg = value.args[0];
    if (arg?.kind === 'raw' && /^\d+$/.test(arg.text)) return Number(arg.text);
  }
  if (value?.kind === 'raw' && /^\d+$/.test(value.text)) return Number(value.text);
  return null;
}

function inet4(value: StraceValue): string | null {
  const addr = findField(value, 'sin_addr');
  if (addr?.kind === 'call' && addr.name === 'inet_addr' && addr.args[0]?.kind === 'string') {
    return addr.args[0].value;
  }
  return null;
}

function inet6(value: StraceValue): string | null {
  if (value.kind !== 'struct') return null;
  // strace prints `inet_pton(AF_INET6, "::1", &sin6_addr)` as a bare item, not as a field.
  for (const item of value.items) {
    if (item.kind === 'call' && item.name === 'inet_pton' && item.args[1]?.kind === 'string') {
      return item.args[1].value;
    }
  }
  const addr = findField(value, 'sin6_addr');
  if (addr?.kind === 'call' && addr.name === 'inet_pton' && addr.args[1]?.kind === 'string') {
    return addr.args[1].value;
  }
  return null;
}
