import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { PhaseTraceSplit } from '../../core/trace/phase-trace-split.ts';

/** Writes lines to a file (latin1: strace's bytes as they are), waiting on back-pressure. */
async function _writeLines(path: string, lines: AsyncIterable<string>): Promise<void> {
  const out = createWriteStream(path, { encoding: 'latin1' });
  try {
    for await (const line of lines) {
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await once(out, 'finish');
  }
}

/**
 * Copies the install part of a two-phase launch's trace (every line before the runner's phase
 * mark) to `installFile` while the launch goes on: strace writes each line whole as the call
 * returns, so the mark is in the file once the runner has said the install phase ended. Returns
 * the byte offset just after the mark, or null when the mark is not (yet) in the file.
 */
export async function writeInstallPart(
  traceFile: string,
  installFile: string,
  split: PhaseTraceSplit,
): Promise<number | null> {
  const input = createReadStream(traceFile, { encoding: 'latin1' });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let offset = 0;
  let markEnd: number | null = null;
  async function* beforeMark(): AsyncGenerator<string> {
    for await (const line of lines) {
      offset += line.length + 1;
      const part = split.place(line);
      if (part === 'mark') {
        markEnd = offset;
        return;
      }
      yield line;
    }
  }
  try {
    await _writeLines(installFile, beforeMark());
  } finally {
    lines.close();
    input.destroy();
  }
  return markEnd;
}

/**
 * Writes the import part (the trace from `offset`, just after the mark, to its end, once the
 * launch is over) to `importFile`, behind the split's preamble line.
 */
export async function writeImportPart(
  traceFile: string,
  offset: number,
  importFile: string,
  split: PhaseTraceSplit,
): Promise<void> {
  const input = createReadStream(traceFile, { encoding: 'latin1', start: offset });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  async function* importLines(): AsyncGenerator<string> {
    const preamble = split.importPreamble();
    if (preamble !== null) yield preamble;
    for await (const line of lines) {
      if (split.place(line) === 'import') yield line;
    }
  }
  try {
    await _writeLines(importFile, importLines());
  } finally {
    lines.close();
    input.destroy();
  }
}
