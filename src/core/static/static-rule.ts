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

/**
 * The path inside the project: without the sdist's `NAME-VERSION/` folder and a `src/` layout
 * folder (`jinja2-3.1.6/src/jinja2/utils.py` -> `jinja2/utils.py`).
 */
export function projectPath(path: string): string {
  const parts = path.split('/');
  if (parts.length > 1 && /-\d/.test(parts[0] ?? '')) parts.shift();
  if (parts.length > 1 && parts[0] === 'src') parts.shift();
  return parts.join('/');
}

/** Tests, docs, examples and benchmarks: not run by an install or an import. */
export function isTestOrDocs(path: string): boolean {
  return /(^|\/)(tests?|testing|docs?|examples?|benchmarks?)\/|(^|\/)(test_[^/]*|[^/]*_test|conftest)\.py$/.test(
    projectPath(path),
  );
}

/**
 * Files an install or a plain `import NAME` runs: setup.py, .pth start-up files, and a
 * top-level package's `__init__.py` (or a top-level module).
 */
export function isInstallTimeFile(path: string): boolean {
  const inner = projectPath(path);
  if (isSetupPy(path) || inner.endsWith('.pth')) return true;
  if (isTestOrDocs(path)) return false;
  const parts = inner.split('/');
  return (parts.length === 2 && parts[1] === '__init__.py') || (parts.length === 1 && inner.endsWith('.py'));
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
