import { rename, writeFile } from 'node:fs/promises';
import { ERROR_CODES, type ErrorCode, type PkghuntError } from '../core/errors.ts';
import { EXIT } from './exit-codes.ts';

/** Prints a typed error the way every command does: one JSON object with --json, text otherwise. */
export function printError(error: PkghuntError, options: { json: boolean }): number {
  const code: ErrorCode = error.code;
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ error: { code, message: error.message, hint: error.hint ?? null } })}\n`,
    );
  } else {
    process.stderr.write(`pkghunt: error [${code}]: ${error.message}\n`);
    process.stderr.write(`  ${error.hint ? `hint: ${error.hint}` : `(${ERROR_CODES[code]})`}\n`);
  }
  return code === 'USAGE' || code === 'INVALID_PACKAGE_SPEC' ? EXIT.USAGE : EXIT.FAILURE;
}

/** Writes a file atomically: readers never see half a record. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, content);
  await rename(temp, path);
}
