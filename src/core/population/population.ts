import type { PopulationView } from '../detect/population-view.ts';
import type { BehaviourRecord } from '../record/schema.ts';
import { commandShape } from './command-shape.ts';
import { pathPattern } from './path-pattern.ts';
import { type BehaviourKind, dnsKey, recordBehaviours } from './record-behaviours.ts';

export interface PopulationShare {
  /** Packages (projects) that show the behaviour. */
  packages: number;
  /** Of those, popular or long-lived ones. */
  popularPackages: number;
}

/**
 * How common each behaviour is across the analysed packages; implements the detection
 * engine's `PopulationView` (src/core/detect).
 */
export interface Population extends PopulationView {
  popularPackages: number;
  /**
   * Keys are normalised here: a command may be given as its argv joined with spaces or as its
   * shape, a path as is or as its pattern. Pass `commandShape(argv, pkg)` and
   * `pathPattern(path, pkg)` to have the package's own name (and version) replaced as counted.
   */
  share(kind: BehaviourKind, key: string): PopulationShare;
}

export interface PopulationBuilder {
  /** Counts a record; a second record of the same project is ignored (one vote per project). */
  add(record: BehaviourRecord, options: { popular: boolean }): void;
  build(): Population;
}

const NONE: PopulationShare = { packages: 0, popularPackages: 0 };

export function normalisePopulationKey(kind: BehaviourKind, key: string): string {
  switch (kind) {
    case 'command':
      return commandShape(key.split(' '));
    case 'dns':
      return dnsKey(key);
    case 'host':
      return key.toLowerCase();
    case 'path':
      return pathPattern(key, { name: '', version: null });
  }
}

export function createPopulationBuilder(): PopulationBuilder {
  const counts = new Map<string, { packages: number; popularPackages: number }>();
  const seen = new Set<string>();
  let packages = 0;
  let popularPackages = 0;
  return {
    add(record, options) {
      const project = record.package.name.toLowerCase().replace(/[-_.]+/g, '-');
      if (seen.has(project)) return;
      seen.add(project);
      packages++;
      if (options.popular) popularPackages++;
      // Counted under the key a caller can compute from the raw value alone (detection asks
      // with an argv or a path, without the package's name at hand), once per record.
      const ids = new Set(
        recordBehaviours(record).map(
          (b) => `${b.kind}\0${b.kind === 'host' ? b.key : normalisePopulationKey(b.kind, b.example)}`,
        ),
      );
      for (const id of ids) {
        const entry = counts.get(id) ?? { packages: 0, popularPackages: 0 };
        entry.packages++;
        if (options.popular) entry.popularPackages++;
        counts.set(id, entry);
      }
    },
    build() {
      const frozen = new Map(counts);
      return {
        packages,
        popularPackages,
        share(kind, key) {
          const entry = frozen.get(`${kind}\0${normalisePopulationKey(kind, key)}`);
          return entry === undefined ? NONE : { ...entry };
        },
      };
    },
  };
}
