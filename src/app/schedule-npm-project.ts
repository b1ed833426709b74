import { fetchPackument } from '../adapters/registry/npm-registry.ts';
import type { ResultStore } from '../adapters/store/store.ts';
import { toPkghuntError } from '../core/errors.ts';
import { npmReleasePlan } from '../core/npm/npm-releases.ts';
import { installScripts } from '../core/npm/packument.ts';
import type { ScheduleResult } from './schedule-project.ts';

export interface ScheduleNpmOptions {
  /** The registry URL or directory (already resolved). */
  registry: string;
  allVersions?: boolean;
  /** ISO date: only versions published since (versions with no known time are left out). */
  since?: string;
}

/**
 * npm's scheduleProject: reads the package document (one GET), stores the versions chosen
 * (`latest`, or every final version with `allVersions`) as releases of ecosystem npm, and returns
 * those to analyse. A package the registry does not have, or with no version, is recorded with
 * the reason; other registry errors propagate (the next run retries the package).
 */
export async function scheduleNpmProject(
  store: ResultStore,
  name: string,
  options: ScheduleNpmOptions,
): Promise<ScheduleResult> {
  const ecosystem = 'npm' as const;
  let fetched: Awaited<ReturnType<typeof fetchPackument>>;
  try {
    fetched = await fetchPackument(options.registry, name);
  } catch (error) {
    const e = toPkghuntError(error);
    if (e.code !== 'PACKAGE_NOT_FOUND') throw e;
    await store.markNoRelease(name, e.message, { ecosystem });
    return { versions: [], noRelease: e.message };
  }
  const { packument, url } = fetched;
  const plan = npmReleasePlan(packument, options.allVersions ? { allVersions: true } : {});
  if (plan.kind === 'none') {
    await store.markNoRelease(name, plan.reason, { ecosystem });
    return { versions: [], noRelease: plan.reason };
  }
  const versions: string[] = [];
  for (const release of plan.releases) {
    const manifest = packument.versions[release.version];
    await store.upsertRelease({
      ecosystem,
      project: name,
      version: release.version,
      uploadTime: release.published,
      files: [
        {
          filename: release.filename,
          url: new URL(release.tarball, url).href,
          // npm documents carry sha1 (shasum) and sha512 (integrity), no sha256.
          sha256: null,
          uploadTime: release.published,
          yanked: false,
        },
      ],
      metadata: {
        ...(manifest?.dist.integrity !== undefined ? { integrity: manifest.dist.integrity } : {}),
        install_scripts: manifest === undefined ? {} : installScripts(manifest),
        ...(release.deprecated ? { deprecated: manifest?.deprecated } : {}),
      },
    });
    if (options.since !== undefined && (release.published === null || release.published < options.since))
      continue;
    versions.push(release.version);
  }
  return { versions };
}
