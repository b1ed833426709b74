/**
 * Renders bytes a client sent as text safe to store and show: printable ASCII kept, the backslash
 * doubled, everything else written as \xNN, so the preview is unambiguous and reversible.
 */
export function escapePreview(bytes: Uint8Array, max = 4096): string {
  let out = '';
  const end = Math.min(bytes.length, max);
  for (let i = 0; i < end; i++) {
    const b = bytes[i] ?? 0;
    if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b <= 0x7e) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}
