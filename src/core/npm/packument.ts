import { z } from 'zod';
import { PkghuntError } from '../errors.ts';

/** One version's manifest in a packument: only what pkghunt reads; everything else passes through. */
export const NpmVersionManifest = z
  .object({
    name: z.string(),
    version: z.string(),
    dist: z
      .object({
        tarball: z.string().min(1),
        shasum: z.string().optional(),
        integrity: z.string().optional(),
      })
      .passthrough(),
    scripts: z.record(z.string(), z.unknown()).optional(),
    main: z.unknown().optional(),
    module: z.unknown().optional(),
    exports: z.unknown().optional(),
    deprecated: z.unknown().optional(),
  })
  .passthrough();
export type NpmVersionManifest = z.infer<typeof NpmVersionManifest>;

/** An unpublished package's document: no `versions`, and `time.unpublished` (an object) says so. */
function _unpublishedWithVersions(doc: unknown): unknown {
  if (typeof doc !== 'object' || doc === null || 'versions' in doc || !('time' in doc)) return doc;
  const time = (doc as { time: unknown }).time;
  return typeof time === 'object' && time !== null && 'unpublished' in time ? { ...doc, versions: {} } : doc;
}

/** A registry's package document (GET /NAME). */
export const Packument = z.preprocess(
  _unpublishedWithVersions,
  z
    .object({
      name: z.string(),
      'dist-tags': z.record(z.string(), z.string()).default({}),
      versions: z.record(z.string(), NpmVersionManifest),
      // Publication time per version (plus created/modified); `unpublished` is an object.
      time: z.record(z.string(), z.unknown()).optional(),
    })
    .passthrough(),
);
export type Packument = z.infer<typeof Packument>;

/** The lifecycle scripts npm runs on `npm install` of a dependency, in order. */
export const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const;

export function parsePackument(json: unknown, source: string): Packument {
  const parsed = Packument.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PkghuntError(
      'INDEX_BAD_RESPONSE',
      `Cannot read the package document from ${source}: ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/**
 * The version to analyse: the one asked for (exact version or dist-tag), else `latest`. A version
 * the document does not list is PACKAGE_NOT_FOUND naming the newest few it has.
 */
export function selectNpmVersion(packument: Packument, wanted: string | null): NpmVersionManifest {
  const tags = packument['dist-tags'];
  const version = wanted === null ? tags.latest : (tags[wanted] ?? wanted);
  const manifest = version === undefined ? undefined : packument.versions[version];
  if (manifest === undefined) {
    const known = Object.keys(packument.versions).slice(-5).join(', ') || 'none';
    throw new PkghuntError(
      'PACKAGE_NOT_FOUND',
      wanted === null
        ? `Cannot pick a version of ${packument.name}: it has no "latest" dist-tag`
        : `Cannot find version ${wanted} of ${packument.name} on the registry`,
      { hint: `Versions it lists include: ${known}.` },
    );
  }
  return manifest;
}

/** The file name of a tarball URL (`.../-/left-pad-1.3.0.tgz` -> `left-pad-1.3.0.tgz`). */
export function tarballFilename(url: string): string {
  const last = url.split(/[?#]/)[0]?.split('/').pop() ?? '';
  return decodeURIComponent(last) || 'package.tgz';
}

/**
 * The document with every version's `dist.tarball` pointing at `rewrite(original)`, so that npm
 * fetches tarballs through the proxy and nowhere else.
 */
export function rewriteTarballs(packument: Packument, rewrite: (url: string) => string): Packument {
  const versions: Record<string, NpmVersionManifest> = {};
  for (const [version, manifest] of Object.entries(packument.versions)) {
    versions[version] = { ...manifest, dist: { ...manifest.dist, tarball: rewrite(manifest.dist.tarball) } };
  }
  return { ...packument, versions };
}

/** The package's install-time lifecycle scripts (name -> command line), as its manifest declares them. */
export function installScripts(manifest: {
  scripts?: Record<string, unknown> | undefined;
}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of INSTALL_SCRIPTS) {
    const value = manifest.scripts?.[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}
