const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXTENSION_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST = 0x00;

/**
 * Finds the server name (SNI) in the first bytes of a TLS connection. Handshake fragments spread
 * over several records are joined first. Returns null for anything that is not a well-formed
 * ClientHello carrying a host name.
 */
export function parseTlsClientHelloSni(bytes: Uint8Array): string | null {
  const hello = _handshakeBytes(bytes);
  if (!hello || hello[0] !== HANDSHAKE_CLIENT_HELLO) return null;
  const r = new _Reader(hello);
  r.skip(1);
  const bodyLength = r.u24();
  if (bodyLength === null) return null;
  const body = new _Reader(hello.subarray(4, 4 + bodyLength));
  body.skip(2 + 32);
  body.skip(body.u8() ?? Number.POSITIVE_INFINITY);
  body.skip(body.u16() ?? Number.POSITIVE_INFINITY);
  body.skip(body.u8() ?? Number.POSITIVE_INFINITY);
  const extensionsLength = body.u16();
  if (extensionsLength === null) return null;
  const extensions = new _Reader(body.take(extensionsLength) ?? new Uint8Array());
  while (!extensions.done()) {
    const type = extensions.u16();
    const length = extensions.u16();
    if (type === null || length === null) return null;
    const data = extensions.take(length);
    if (!data) return null;
    if (type === EXTENSION_SERVER_NAME) return _serverName(data);
  }
  return null;
}

function _serverName(data: Uint8Array): string | null {
  const r = new _Reader(data);
  const listLength = r.u16();
  if (listLength === null) return null;
  const list = new _Reader(r.take(listLength) ?? new Uint8Array());
  while (!list.done()) {
    const nameType = list.u8();
    const length = list.u16();
    if (nameType === null || length === null) return null;
    const name = list.take(length);
    if (!name) return null;
    if (nameType === NAME_TYPE_HOST) return String.fromCharCode(...name);
  }
  return null;
}

function _handshakeBytes(bytes: Uint8Array): Uint8Array | null {
  const parts: Uint8Array[] = [];
  let offset = 0;
  while (offset + 5 <= bytes.length) {
    if (bytes[offset] !== RECORD_HANDSHAKE || bytes[offset + 1] !== 0x03) break;
    const length = ((bytes[offset + 3] ?? 0) << 8) | (bytes[offset + 4] ?? 0);
    parts.push(bytes.subarray(offset + 5, Math.min(bytes.length, offset + 5 + length)));
    offset += 5 + length;
  }
  if (parts.length === 0) return null;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

class _Reader {
  #bytes: Uint8Array;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  done(): boolean {
    return this.#at >= this.#bytes.length;
  }

  skip(n: number): void {
    this.#at += n;
  }

  take(n: number): Uint8Array | null {
    if (this.#at + n > this.#bytes.length) return null;
    const out = this.#bytes.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  u8(): number | null {
    const b = this.take(1);
    return b ? (b[0] ?? null) : null;
  }

  u16(): number | null {
    const b = this.take(2);
    return b ? ((b[0] ?? 0) << 8) | (b[1] ?? 0) : null;
  }

  u24(): number | null {
    const b = this.take(3);
    return b ? ((b[0] ?? 0) << 16) | ((b[1] ?? 0) << 8) | (b[2] ?? 0) : null;
  }
}
