/**
 * Name and Version from core metadata (PKG-INFO / METADATA): RFC 822 style headers up to the
 * first blank line. Returns null fields when absent.
 */
export function parsePkgInfo(text: string): { name: string | null; version: string | null } {
  let name: string | null = null;
  let version: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') break;
    const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (!match) continue;
    const key = match[1]?.toLowerCase();
    const value = match[2]?.trim() ?? '';
    if (key === 'name' && name === null && value) name = value;
    if (key === 'version' && version === null && value) version = value;
  }
  return { name, version };
}
