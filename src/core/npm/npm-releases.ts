import type { NpmVersionManifest, Packument } from './packument.ts';
import { tarballFilename } from './packument.ts';

/** One version of a package document, as the hunt stores it. */
export interface NpmRelease {
  version: string;
  /** ISO-8601 UTC publication time from the document's `time`, or null. */
  published: string | null;
  /** dist.tarball as the document gives it (may be relative to the document's URL). */
  tarball: string;
  filename: string;
  deprecated: boolean;
}

export type NpmReleasePlan = { kind: 'none'; reason: string } | { kind: 'releases'; releases: NpmRelease[] };

/** A registry time (`2024-12-04T23:03:58.786000+00:00`, `...Z`) as ISO-8601 UTC, or null. */
export function isoTime(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** A semver pre-release (`1.0.0-beta.1`): npm installs it only when asked for by name or tag. */
export function isPrerelease(version: string): boolean {
  return /^\d+\.\d+\.\d+-/.test(version);
}

function release(packument: Packument, version: string, manifest: NpmVersionManifest): NpmRelease {
  return {
    version,
    published: isoTime(packument.time?.[version]),
    tarball: manifest.dist.tarball,
    filename: tarballFilename(manifest.dist.tarball),
    deprecated: manifest.deprecated !== undefined && manifest.deprecated !== false,
  };
}

/** Every version of the document with its publication time, oldest first (unknown times last). */
export function npmReleases(packument: Packument): NpmRelease[] {
  return Object.entries(packument.versions)
    .map(([version, manifest]) => release(packument, version, manifest))
    .sort((a, b) => {
      if (a.published === b.published) return a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
      if (a.published === null) return 1;
      if (b.published === null) return -1;
      return a.published < b.published ? -1 : 1;
    });
}

/**
 * The versions of a package a hunt analyses: its `latest` dist-tag (what `npm install NAME`
 * gets), or with `allVersions` every final (non pre-release) version too, newest published
 * first. A document without versions (unpublished) or without `latest` has none, with the reason.
 */
export function npmReleasePlan(
  packument: Packument,
  options: { allVersions?: boolean } = {},
): NpmReleasePlan {
  const all = npmReleases(packument);
  if (all.length === 0) {
    const unpublished = packument.time?.unpublished !== undefined;
    return {
      kind: 'none',
      reason: unpublished
        ? `${packument.name} was unpublished: the registry lists no version`
        : `${packument.name} has no version on the registry`,
    };
  }
  const latestVersion = packument['dist-tags'].latest;
  const latest = all.find((r) => r.version === latestVersion);
  if (latest === undefined) {
    return {
      kind: 'none',
      reason: `${packument.name} has no "latest" dist-tag pointing at a listed version`,
    };
  }
  if (!options.allVersions) return { kind: 'releases', releases: [latest] };
  const older = all.filter((r) => r !== latest && !isPrerelease(r.version)).reverse();
  return { kind: 'releases', releases: [latest, ...older] };
}
