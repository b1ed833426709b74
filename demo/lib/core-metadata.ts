import type { FixtureManifest } from './fixture-package.ts';

/** PEP 503 project name normalisation: the directory name in the simple index. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The name as it appears in sdist and wheel file names (PEP 625 / wheel spec): runs of -_. become _. */
export function distributionFileName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '_');
}

/** Core metadata 2.1 (PKG-INFO in sdists, METADATA in wheels). */
export function renderCoreMetadata(manifest: FixtureManifest): string {
  const lines = [
    'Metadata-Version: 2.1',
    `Name: ${manifest.name}`,
    `Version: ${manifest.version}`,
    `Summary: ${manifest.summary}`,
    'Requires-Python: >=3.8',
    ...manifest.requires.map((requirement) => `Requires-Dist: ${requirement}`),
  ];
  return `${lines.join('\n')}\n`;
}
