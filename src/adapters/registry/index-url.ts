import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';
import { PkghuntError } from '../../core/errors.ts';

const run = promisify(execFile);

/** An index URL pkghunt can use: http(s) or file, no credentials-free check beyond the scheme. */
const IndexUrlSchema = z
  .string()
  .trim()
  .min(1)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (
        ['http:', 'https:', 'file:'].includes(url.protocol) && (url.protocol === 'file:' || url.host !== '')
      );
    } catch {
      return false;
    }
  }, 'not an http(s):// or file:// URL');

/** Output line of `pip config list`: scope.key='value'. */
const PipConfigLine = z.string().regex(/^([^=]+)=(.*)$/);

async function pip(args: readonly string[], env: NodeJS.ProcessEnv): Promise<string | null> {
  try {
    const { stdout } = await run('python3', ['-m', 'pip', ...args], {
      env,
      timeout: 30_000,
      maxBuffer: 1 << 20,
    });
    return stdout;
  } catch {
    return null;
  }
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && (v[0] === "'" || v[0] === '"') && v.at(-1) === v[0]) return v.slice(1, -1);
  return v;
}

/**
 * index-url from pip's configuration files. Only `index-url` counts: extra-index-url and
 * find-links are ignored on purpose, the sandbox must see one index, through the proxy.
 * The install section overrides global, as in pip.
 */
async function indexUrlFromPipConfig(env: NodeJS.ProcessEnv): Promise<string | null> {
  const out = await pip(['config', 'list'], env);
  if (out === null) return null;
  const values = new Map<string, string>();
  for (const line of out.split('\n')) {
    if (!PipConfigLine.safeParse(line).success) continue;
    const eq = line.indexOf('=');
    values.set(line.slice(0, eq).trim(), unquote(line.slice(eq + 1)));
  }
  const value = values.get('install.index-url') ?? values.get('global.index-url') ?? null;
  // pip allows several whitespace-separated URLs only for extra-index-url; take the first anyway.
  return value?.split(/\s+/)[0] ?? null;
}

async function pipDefaultIndexUrl(env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run(
      'python3',
      ['-c', 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)'],
      { env, timeout: 30_000 },
    );
    return stdout.trim();
  } catch (cause) {
    throw new PkghuntError('CONFIG_INVALID', 'Cannot ask pip for its default index URL', {
      hint: 'Install pip for python3 or pass --index-url / set PIP_INDEX_URL.',
      cause,
    });
  }
}

/** A plain directory path becomes a file:// URL ending in '/'; URLs are validated and get a trailing '/'. */
async function normalizeIndexUrl(value: string, source: string): Promise<string> {
  const trimmed = value.trim();
  if (trimmed.startsWith('/') || trimmed.startsWith('.') || isAbsolute(trimmed)) {
    const dir = resolve(trimmed);
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory()) {
      throw new PkghuntError('CONFIG_INVALID', `Cannot use index ${value} from ${source}: not a directory`, {
        hint: 'Give an http(s):// URL or an existing directory holding a PEP 503 index.',
      });
    }
    return pathToFileURL(dir).href.replace(/\/?$/, '/');
  }
  const parsed = IndexUrlSchema.safeParse(trimmed);
  if (!parsed.success) {
    throw new PkghuntError(
      'CONFIG_INVALID',
      `Cannot use index ${JSON.stringify(value)} from ${source}: ${parsed.error.issues[0]?.message}`,
      { hint: 'Give an http(s):// URL, a file:// URL or a directory path.' },
    );
  }
  const url = new URL(parsed.data);
  if (url.protocol === 'file:') return normalizeIndexUrl(fileURLToPath(url), source);
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

/**
 * The one index pkghunt fetches from, always ending in '/': the CLI value, else PIP_INDEX_URL,
 * else pip's configured index-url, else pip's built-in default. A local directory becomes file://.
 */
export async function resolveIndexUrl(options: {
  cliValue?: string;
  env: NodeJS.ProcessEnv;
}): Promise<string> {
  if (options.cliValue !== undefined && options.cliValue !== '') {
    return normalizeIndexUrl(options.cliValue, '--index-url');
  }
  const fromEnv = options.env.PIP_INDEX_URL;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return normalizeIndexUrl(fromEnv, 'PIP_INDEX_URL');
  const fromConfig = await indexUrlFromPipConfig(options.env);
  if (fromConfig !== null && fromConfig !== '') return normalizeIndexUrl(fromConfig, "pip's configuration");
  return normalizeIndexUrl(await pipDefaultIndexUrl(options.env), "pip's default");
}
