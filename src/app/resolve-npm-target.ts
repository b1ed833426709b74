import { basename } from 'node:path';
import { inspectNpmTarball } from '../adapters/archive/inspect-npm-tarball.ts';
import type { ServedFile } from '../adapters/registry/index-proxy.ts';
import { fetchPackument } from '../adapters/registry/npm-registry.ts';
import { parseNpmPackageSpec } from '../core/npm/npm-package-spec.ts';
import { installScripts, type NpmVersionManifest, selectNpmVersion } from '../core/npm/packument.ts';
import type { Dependency } from '../core/record/schema.ts';
import { SANDBOX_LAYOUT } from '../core/sandbox/layout.ts';
import type { Reporter } from '../reporter/reporter.ts';
import type { ResolvedTarget } from './analyze.ts';

/** What the record keeps of an npm manifest: what runs (scripts, entry points) and where it came from. */
function manifestMetadata(manifest: Record<string, unknown>): Record<string, unknown> {
  const keep = ['description', 'main', 'module', 'exports', 'type', 'bin', 'dependencies', 'gypfile', 'dist'];
  const out: Record<string, unknown> = {
    install_scripts: installScripts(manifest as { scripts?: Record<string, unknown> }),
  };
  for (const key of keep) if (manifest[key] !== undefined) out[key] = manifest[key];
  return out;
}

/**
 * An `npm:` spec made concrete: a registry package's version (the one asked for, else `latest`)
 * with its manifest, or a local tarball's name and version from its package.json.
 */
export async function resolveNpmTarget(
  requested: string,
  registry: string,
  context: { reporter: Reporter; runId: string },
): Promise<ResolvedTarget> {
  const spec = parseNpmPackageSpec(requested);
  const { reporter, runId } = context;
  if (spec.kind === 'local') {
    reporter.report({ type: 'step', runId, step: 'inspecting local npm tarball', detail: spec.path });
    const info = await inspectNpmTarball(spec.path);
    return {
      ecosystem: 'npm',
      name: info.name,
      version: info.version,
      source: 'local',
      pipTarget: `${SANDBOX_LAYOUT.artifactsDir}/${basename(spec.path)}`,
      localPath: spec.path,
      artifact: { filename: info.filename, sha256: info.sha256, size: info.size },
      metadata: manifestMetadata(info.manifest),
    };
  }
  reporter.report({ type: 'step', runId, step: 'resolving release', detail: spec.name });
  const { packument } = await fetchPackument(registry, spec.name);
  const manifest: NpmVersionManifest = selectNpmVersion(packument, spec.version);
  return {
    ecosystem: 'npm',
    name: packument.name,
    version: manifest.version,
    source: 'index',
    pipTarget: `${packument.name}@${manifest.version}`,
    localPath: null,
    artifact: null,
    metadata: manifestMetadata(manifest),
  };
}

/** The package's own tarball among those npm fetched through the proxy. */
export function npmArtifact(served: readonly ServedFile[], target: ResolvedTarget): ServedFile | undefined {
  const base = target.name.split('/').pop() ?? target.name;
  return served.find(
    (f) =>
      f.project === target.name &&
      (target.version === null || f.filename === `${base}-${target.version}.tgz`),
  );
}

/** Every other package npm put in node_modules; `tarball` when the proxy served one for it. */
export function npmDependencies(
  target: string,
  installed: readonly { name: string; version: string }[],
  served: readonly ServedFile[],
): Dependency[] {
  const seen = new Set<string>();
  const out: Dependency[] = [];
  for (const pkg of installed) {
    const key = `${pkg.name}@${pkg.version}`;
    if (pkg.name === target || seen.has(key)) continue;
    seen.add(key);
    out.push({
      name: pkg.name,
      version: pkg.version || null,
      kind: 'dependency',
      artifact: served.some((f) => f.project === pkg.name) ? 'tarball' : null,
    });
  }
  return out;
}
