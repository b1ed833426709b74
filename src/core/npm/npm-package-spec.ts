import { PkghuntError } from '../errors.ts';

/** What `analyze npm:...` asks for: a registry package (optionally one version or dist-tag) or a local tarball. */
export type NpmPackageSpec =
  | { kind: 'registry'; name: string; version: string | null }
  | { kind: 'local'; path: string };

export const NPM_PREFIX = 'npm:';

/**
 * npm's rules for names (validate-npm-package-name): at most 214 characters, URL-safe, not starting
 * with `.` or `_`, an optional `@scope/`. Upper case is accepted (old packages have it).
 */
const NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i;
/** An exact semver version (build metadata allowed) or a dist-tag such as `latest` or `next`. */
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const DIST_TAG = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
const HINT =
  'Give npm:NAME, npm:NAME@VERSION (e.g. npm:left-pad@1.3.0, npm:@scope/pkg@2.0.0) or npm:PATH.tgz.';

function invalid(input: string, why: string, hint = HINT): PkghuntError {
  return new PkghuntError(
    'INVALID_PACKAGE_SPEC',
    `Cannot parse npm package spec ${JSON.stringify(input)}: ${why}`,
    {
      hint,
    },
  );
}

export function isNpmSpec(input: string): boolean {
  return input.startsWith(NPM_PREFIX);
}

/** A name npm itself would accept; the name ends up in URLs and npm's argv, so anything else is refused. */
export function isValidNpmName(name: string): boolean {
  return name.length > 0 && name.length <= 214 && NAME.test(name);
}

/** The path of a package document on a registry: a scope's slash is encoded (`@scope%2fname`). */
export function packumentPath(name: string): string {
  return name.startsWith('@') ? name.replace('/', '%2f') : name;
}

/**
 * Parses `npm:NAME`, `npm:NAME@VERSION`, `npm:@SCOPE/NAME@VERSION` or `npm:PATH.tgz`. Version ranges,
 * git URLs, aliases and shell syntax are refused rather than handed to npm.
 */
export function parseNpmPackageSpec(input: string): NpmPackageSpec {
  if (!isNpmSpec(input)) throw invalid(input, `it does not start with "${NPM_PREFIX}"`);
  const rest = input.slice(NPM_PREFIX.length);
  if (rest.length === 0) throw invalid(input, 'the name is empty');
  if (rest.length > 4096) throw invalid(input, 'it is too long');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused here
  if (/[\u0000-\u001f\u007f]/.test(rest)) throw invalid(input, 'it holds control characters');
  if (rest.includes('://') || /^(git|github|file|http|https|link|workspace|npm):/.test(rest)) {
    throw invalid(
      input,
      'URLs, git and alias specs are not accepted',
      'Download the tarball and give npm:PATH.tgz.',
    );
  }
  if (rest.startsWith('-'))
    throw invalid(input, 'it starts with "-"', 'Prefix a local path that starts with "-" with "./".');
  const lower = rest.toLowerCase();
  const looksLocal =
    lower.endsWith('.tgz') || lower.endsWith('.tar.gz') || rest.startsWith('.') || rest.startsWith('/');
  if (looksLocal) {
    if (/[;|&$`<>(){}*?!'"\\\s]/.test(rest)) {
      throw invalid(
        input,
        'the path holds shell metacharacters or whitespace',
        'Rename the file to a plain name.',
      );
    }
    return { kind: 'local', path: rest };
  }
  const at = rest.indexOf('@', 1);
  const name = at === -1 ? rest : rest.slice(0, at);
  const version = at === -1 ? null : rest.slice(at + 1);
  if (!isValidNpmName(name)) throw invalid(input, `${JSON.stringify(name)} is not a valid npm package name`);
  if (version !== null && !SEMVER.test(version) && !DIST_TAG.test(version)) {
    throw invalid(
      input,
      `${JSON.stringify(version)} is not an exact version or a dist-tag (ranges are not accepted)`,
      'Pin one version: npm:NAME@1.2.3.',
    );
  }
  return { kind: 'registry', name, version };
}
