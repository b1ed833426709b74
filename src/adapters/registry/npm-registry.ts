import { execFile } from 'node:child_process';
import { access, readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { PkghuntError } from '../../core/errors.ts';
import { packumentPath } from '../../core/npm/npm-package-spec.ts';
import { type Packument, parsePackument } from '../../core/npm/packument.ts';
import { type FetchRetryOptions, fetchWithRetry } from './fetch-with-retry.ts';

const run = promisify(execFile);

/** Where npm and node are on the host; the sandbox sees /usr read-only, so the same paths work inside. */
export const HOST_NPM = '/usr/bin/npm';
export const HOST_NODE = '/usr/bin/node';

/** Fails with the Debian package to install when npm or node is missing. */
export async function checkNpm(): Promise<void> {
  for (const [path, pkg] of [
    [HOST_NODE, 'nodejs'],
    [HOST_NPM, 'npm'],
  ] as const) {
    const ok = await access(path).then(
      () => true,
      () => false,
    );
    if (!ok) {
      throw new PkghuntError('CAPABILITY_MISSING', `Cannot analyse an npm package: ${path} is missing`, {
        hint: `apt-get install ${pkg} (the Debian package \`${pkg}\`).`,
      });
    }
  }
}

/** A registry URL or directory, normalised to end in '/'; a directory becomes file://. */
async function normalizeRegistry(value: string, source: string): Promise<string> {
  const trimmed = value.trim();
  if (trimmed.startsWith('/') || trimmed.startsWith('.') || isAbsolute(trimmed)) {
    const dir = resolve(trimmed);
    if (!(await stat(dir).catch(() => null))?.isDirectory()) {
      throw new PkghuntError(
        'CONFIG_INVALID',
        `Cannot use registry ${value} from ${source}: not a directory`,
        {
          hint: 'Give an http(s):// URL or a directory built like demo/build-npm-registry.ts writes it.',
        },
      );
    }
    return pathToFileURL(dir).href.replace(/\/?$/, '/');
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new PkghuntError(
      'CONFIG_INVALID',
      `Cannot use registry ${JSON.stringify(value)} from ${source}: not a URL`,
      {
        hint: 'Give an http(s):// URL, a file:// URL or a directory path.',
      },
    );
  }
  if (url.protocol === 'file:') return normalizeRegistry(fileURLToPath(url), source);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PkghuntError(
      'CONFIG_INVALID',
      `Cannot use registry ${value} from ${source}: not http(s) or file`,
    );
  }
  url.hash = '';
  url.search = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

/**
 * The one registry pkghunt fetches npm packages from: `--registry`, else what npm itself is
 * configured with (`npm config get registry`: npm_config_registry, .npmrc files, npm's default).
 */
export async function resolveNpmRegistry(options: {
  cliValue?: string;
  env: NodeJS.ProcessEnv;
}): Promise<string> {
  if (options.cliValue !== undefined && options.cliValue !== '')
    return normalizeRegistry(options.cliValue, '--registry');
  await checkNpm();
  try {
    const { stdout } = await run(HOST_NPM, ['config', 'get', 'registry'], {
      env: options.env,
      timeout: 30_000,
    });
    return normalizeRegistry(stdout.trim(), "npm's configuration");
  } catch (cause) {
    if (cause instanceof PkghuntError) throw cause;
    throw new PkghuntError('CONFIG_INVALID', 'Cannot ask npm for its registry (npm config get registry)', {
      hint: 'Pass --registry URL.',
      cause,
    });
  }
}

/**
 * Where a package document lives: `REGISTRY/NAME` (scope slash encoded) on http(s); on a local
 * directory registry `DIR/NAME/index.json` (scoped names are nested folders), tarballs beside it.
 */
export function packumentUrl(registry: string, name: string): string {
  if (registry.startsWith('file:')) return new URL(`${name}/index.json`, registry).href;
  return new URL(packumentPath(name), registry).href;
}

export interface PackumentFetch {
  packument: Packument;
  /** The URL it came from; relative tarball URLs resolve against it. */
  url: string;
}

/** GET a package document. 404 is PACKAGE_NOT_FOUND, a registry that does not answer INDEX_UNREACHABLE. */
export async function fetchPackument(
  registry: string,
  name: string,
  retry: Pick<FetchRetryOptions, 'retries' | 'baseDelayMs' | 'maxDelayMs' | 'timeoutMs'> = {},
): Promise<PackumentFetch> {
  const url = packumentUrl(registry, name);
  if (url.startsWith('file:')) {
    const path = fileURLToPath(url);
    const root = fileURLToPath(registry);
    if (!path.startsWith(root.endsWith(sep) ? root : root + sep)) {
      throw new PkghuntError(
        'INVALID_PACKAGE_SPEC',
        `Cannot look up ${name}: it leaves the registry directory`,
      );
    }
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text === null) {
      throw new PkghuntError(
        'PACKAGE_NOT_FOUND',
        `Cannot find package ${name} in the registry at ${registry}`,
      );
    }
    return { packument: parsePackument(parseJson(text, url), url), url };
  }
  const response = await fetchWithRetry(url, { ...retry, headers: { Accept: 'application/json' } });
  if (response.status === 404) {
    await response.body?.cancel().catch(() => undefined);
    throw new PkghuntError(
      'PACKAGE_NOT_FOUND',
      `Cannot find package ${name} on the registry at ${registry}`,
      {
        hint: 'Check the name (npm names are lower case; scoped ones are @scope/name).',
      },
    );
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new PkghuntError(
      'INDEX_UNREACHABLE',
      `Cannot fetch ${url}: the registry answered ${response.status}`,
      {
        hint: 'Check the registry (--registry or npm config get registry) and try again later.',
      },
    );
  }
  return { packument: parsePackument(parseJson(await response.text(), url), url), url };
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PkghuntError(
      'INDEX_BAD_RESPONSE',
      `Cannot parse the package document from ${source}: ${(error as Error).message}`,
    );
  }
}
