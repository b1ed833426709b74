import { PkghuntError } from '../errors.ts';
import { isValidProjectName, normalizeName } from './normalize-name.ts';

export type PackageSpec =
  | { kind: 'index'; name: string; normalized: string; version: string | null }
  | { kind: 'local'; path: string };

const LOCAL_SUFFIXES = ['.tar.gz', '.tgz', '.zip', '.whl'];
/** PEP 440 characters only (epoch `!`, local `+`); legacy versions pass, shell syntax does not. */
const VERSION_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9.+!_-]*[A-Za-z0-9])?$/;
const HINT = 'Give NAME or NAME==VERSION (e.g. requests==2.31.0), or a path to a .tar.gz, .zip or .whl file.';

function invalid(input: string, why: string, hint = HINT): PkghuntError {
  return new PkghuntError(
    'INVALID_PACKAGE_SPEC',
    `Cannot parse package spec ${JSON.stringify(input)}: ${why}`,
    {
      hint,
    },
  );
}

/**
 * Parses what the user asked to analyse. Index specs are strict (the name ends up in URLs and
 * pip's argv); anything that looks like a URL, a requirement with extras/markers or shell syntax
 * is refused rather than passed on.
 */
export function parsePackageSpec(input: string): PackageSpec {
  if (input.length === 0) throw invalid(input, 'it is empty');
  if (input.length > 4096) throw invalid(input, 'it is too long');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused here
  if (/[\u0000-\u001f\u007f]/.test(input)) throw invalid(input, 'it holds control characters');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(input) || input.includes('://')) {
    throw invalid(
      input,
      'URLs are not accepted',
      'Download the file first and give its local path, or give NAME==VERSION.',
    );
  }
  if (input.startsWith('-')) {
    throw invalid(input, 'it starts with "-"', 'Prefix a local path that starts with "-" with "./".');
  }
  const lower = input.toLowerCase();
  const looksLocal = input.includes('/') || LOCAL_SUFFIXES.some((suffix) => lower.endsWith(suffix));
  if (looksLocal && /[;|&$`<>(){}*?!'"\\]/.test(input)) {
    throw invalid(input, 'the path holds shell metacharacters', 'Rename the file to a plain name.');
  }
  if (looksLocal) {
    return { kind: 'local', path: input };
  }
  if (/\s/.test(input)) throw invalid(input, 'it holds whitespace');
  const at = input.indexOf('==');
  const name = at === -1 ? input : input.slice(0, at);
  const version = at === -1 ? null : input.slice(at + 2);
  if (/[[\]@;<>~=!,()]/.test(name)) {
    throw invalid(
      input,
      'extras, markers, URLs and version ranges are not accepted',
      'Pin one version with NAME==VERSION.',
    );
  }
  if (!isValidProjectName(name)) throw invalid(input, `${JSON.stringify(name)} is not a valid project name`);
  if (version !== null && !VERSION_PATTERN.test(version)) {
    throw invalid(input, `${JSON.stringify(version)} is not a valid version`);
  }
  return { kind: 'index', name, normalized: normalizeName(name), version };
}
