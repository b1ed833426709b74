import { resolveIndexUrl } from '../adapters/registry/index-url.ts';
import { resolveNpmRegistry } from '../adapters/registry/npm-registry.ts';
import type { Ecosystem } from '../core/ecosystem.ts';
import { PkghuntError } from '../core/errors.ts';

export interface IndexFlags {
  indexUrl?: string;
  registry?: string;
  search?: string;
}

/**
 * The index of the ecosystem a command hunts or watches: PyPI's (`--index-url`, else pip's
 * configuration) or npm's registry (`--registry`, else `npm config get registry`). An option of
 * the other ecosystem is a usage error rather than silently ignored.
 */
export async function resolveEcosystemIndex(ecosystem: Ecosystem, flags: IndexFlags): Promise<string> {
  if (ecosystem === 'npm') {
    if (flags.indexUrl !== undefined) {
      throw new PkghuntError('USAGE', 'Cannot use --index-url with --ecosystem npm', {
        hint: 'Give the npm registry with --registry URL|DIR (default: npm config get registry).',
      });
    }
    return resolveNpmRegistry({
      ...(flags.registry !== undefined ? { cliValue: flags.registry } : {}),
      env: process.env,
    });
  }
  for (const [value, flag] of [
    [flags.registry, '--registry'],
    [flags.search, '--search'],
  ] as const) {
    if (value !== undefined) {
      throw new PkghuntError('USAGE', `Cannot use ${flag} without --ecosystem npm`, {
        hint: 'PyPI hunts take --index-url.',
      });
    }
  }
  return resolveIndexUrl({
    ...(flags.indexUrl !== undefined ? { cliValue: flags.indexUrl } : {}),
    env: process.env,
  });
}
