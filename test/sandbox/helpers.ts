import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ZipFile } from 'yazl';
import type { Limits } from '../../src/core/record/schema.ts';

export const SMALL_LIMITS: Limits = {
  timeout_s: 30,
  memory_mb: 256,
  pids: 128,
  disk_mb: 64,
  output_kb: 1024,
};

let counter = 0;
export function testId(label: string): string {
  counter += 1;
  return `test-${process.pid}-${label}-${counter}`;
}

export async function mountinfo(): Promise<string> {
  return readFile('/proc/self/mountinfo', 'utf8');
}

function _recordHash(data: Buffer): string {
  return `sha256=${createHash('sha256').update(data).digest('base64url')}`;
}

/** Writes a pure-Python wheel built from the given files (code we wrote ourselves, never a sample). */
export async function buildWheel(
  path: string,
  options: { name: string; version: string; files: Record<string, string> },
): Promise<void> {
  const distInfo = `${options.name.replace(/-/g, '_')}-${options.version}.dist-info`;
  const files: Record<string, string> = {
    ...options.files,
    [`${distInfo}/METADATA`]: `Metadata-Version: 2.1\nName: ${options.name}\nVersion: ${options.version}\n`,
    [`${distInfo}/WHEEL`]:
      'Wheel-Version: 1.0\nGenerator: pkghunt-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  };
  const zip = new ZipFile();
  const record: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    zip.addBuffer(data, name);
    record.push(`${name},${_recordHash(data)},${data.length}`);
  }
  record.push(`${distInfo}/RECORD,,`);
  zip.addBuffer(Buffer.from(`${record.join('\n')}\n`), `${distInfo}/RECORD`);
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    out.on('close', () => resolve());
    out.on('error', reject);
    zip.outputStream.pipe(out);
  });
}
