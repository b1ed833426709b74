/** Dotted quad of an IPv4 address bpftrace printed as a little-endian u32 in hex. */
export function ipv4FromHex(hex: string): string {
  const v = Number.parseInt(hex, 16) >>> 0;
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24].join('.');
}

/** The 16 bytes of an IPv6 address bpftrace printed as two little-endian u64 in hex. */
export function ipv6BytesFromHex(low: string, high: string): number[] {
  const bytes: number[] = [];
  for (const word of [low, high]) {
    let v = BigInt(`0x${word || '0'}`);
    for (let i = 0; i < 8; i++) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    }
  }
  return bytes;
}

/** RFC 5952 text (what inet_ntop and strace print), v4-mapped addresses as ::ffff:a.b.c.d. */
export function formatIpv6(bytes: readonly number[]): string {
  const b = (i: number) => bytes[i] ?? 0;
  if (bytes.slice(0, 10).every((x) => x === 0) && b(10) === 0xff && b(11) === 0xff) {
    return `::ffff:${b(12)}.${b(13)}.${b(14)}.${b(15)}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => (b(2 * i) << 8) | b(2 * i + 1));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** A port bpftrace printed as the raw (network order) u16 read little-endian. */
export function portFromRaw(raw: number): number {
  return ((raw & 0xff) << 8) | ((raw >>> 8) & 0xff);
}
