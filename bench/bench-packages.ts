/**
 * What `make bench` installs. Only packages that are safe to install on the host too, since the
 * "bare" variant runs pip with no sandbox: our two benign demo fixtures and a few well-known,
 * widely used projects. Never add ph-demo-gist-dropper/ci-exfil/obfuscated or any ph-test-*.
 */
export interface BenchPackage {
  name: string;
  /** Where its files come from: the demo index, the build-deps wheels, or the live index. */
  origin: 'demo' | 'build-dep' | 'live';
  /** For live packages: which file of the latest release the bench index keeps. */
  prefer?: 'wheel' | 'sdist';
  why: string;
  /** Live projects it depends on, fetched into the index too (wheels) but not benchmarked. */
  deps?: readonly string[];
}

export const BENCH_PACKAGES: readonly BenchPackage[] = [
  { name: 'ph-demo-pure', origin: 'demo', why: 'our pure-Python sdist (setuptools build)' },
  { name: 'ph-demo-cext', origin: 'demo', why: 'our sdist with a C extension (gcc)' },
  { name: 'six', origin: 'live', prefer: 'wheel', why: 'one-module wheel' },
  { name: 'idna', origin: 'live', prefer: 'wheel', why: 'small wheel' },
  { name: 'attrs', origin: 'live', prefer: 'wheel', why: 'wheel with a few packages' },
  { name: 'packaging', origin: 'build-dep', why: 'wheel (also a build dependency)' },
  { name: 'wheel', origin: 'build-dep', why: 'wheel with a console script (also a build dependency)' },
  { name: 'setuptools', origin: 'build-dep', why: 'large wheel, 343 files (also a build dependency)' },
  {
    name: 'python-dateutil',
    origin: 'live',
    prefer: 'wheel',
    deps: ['tzdata'],
    why: 'wheel with a dependency (tzdata)',
  },
  { name: 'docopt', origin: 'live', prefer: 'sdist', why: 'real sdist-only project (setup.py build)' },
];

/** Files every sdist build needs (build isolation without the network). */
export const BUILD_DEP_PROJECTS = ['setuptools', 'wheel', 'packaging'] as const;
