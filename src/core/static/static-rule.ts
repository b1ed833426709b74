import type { Severity } from '../record/schema.ts';

export interface SourceFile {
  /** Path inside the artifact, e.g. `pkg-1.0/setup.py`. */
  path: string;
  text: string;
}

export interface StaticHit {
  /** 1-based line. */
  line: number;
  text: string;
  severity?: Severity;
}

/** A static signal, declared as data plus a pure scan of one file's text. */
export interface StaticRule {
  id: string;
  severity: Severity;
  title: string;
  description: string;
  attack?: string;
  scan(file: SourceFile, lines: readonly string[]): StaticHit[];
}

export function isSetupPy(path: string): boolean {
  return /(^|\/)setup\.py$/.test(path);
}

/** 1-based line of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** A line for evidence: trimmed, long whitespace runs shown as <N spaces>, bounded. */
export function snippet(line: string, max = 140): string {
  const shown = line.trim().replace(/[ \t]{20,}/g, (run) => `<${run.length} spaces>`);
  return shown.length > max ? `${shown.slice(0, max)}…` : shown;
}
