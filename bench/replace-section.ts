/**
 * Replaces one `## Heading` section of a Markdown document (up to the next `## ` heading) with
 * `section`, which must start with that heading; appends it when the document has none.
 * Other sections are kept byte for byte: several benchmarks share docs/BENCHMARKS.md.
 * CLI: node --import tsx bench/replace-section.ts DOC.md SECTION.md
 */
import { readFile, rename, writeFile } from 'node:fs/promises';

export function replaceSection(doc: string, section: string): string {
  const heading = section.split('\n', 1)[0]?.trim() ?? '';
  if (!/^## \S/.test(heading))
    throw new Error(`Cannot replace a section that starts with ${JSON.stringify(heading)}`);
  const body = `${section.trimEnd()}\n`;
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => line.trimEnd() === heading);
  if (start === -1) return `${doc.trimEnd()}\n\n${body}`;
  const next = lines.findIndex((line, i) => i > start && /^## /.test(line));
  const before = lines.slice(0, start).join('\n');
  const after = next === -1 ? '' : `\n${lines.slice(next).join('\n')}`;
  return `${before}${before === '' ? '' : '\n'}${body}${after}`;
}

async function main(): Promise<void> {
  const [docPath, sectionPath] = process.argv.slice(2);
  if (docPath === undefined || sectionPath === undefined) {
    process.stderr.write('usage: replace-section.ts DOC.md SECTION.md\n');
    process.exit(2);
  }
  const doc = await readFile(docPath, 'utf8');
  const section = await readFile(sectionPath, 'utf8');
  await writeFile(`${docPath}.tmp`, replaceSection(doc, section));
  await rename(`${docPath}.tmp`, docPath);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
