import { PkghuntError } from '../../core/errors.ts';
import type { InstallTarget } from '../../core/pypi/installable-here.ts';
import { HOST_PYTHON } from './capabilities.ts';
import { runHostCommand } from './run-host-command.ts';

const ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64' };

let cached: Promise<InstallTarget> | null = null;

/**
 * What the sandbox installs for: its interpreter's version (the host's python3, run in the
 * sandbox), the machine and the C library. Read once per process.
 */
export function readInstallTarget(): Promise<InstallTarget> {
  cached ??= _read().catch((error: unknown) => {
    cached = null;
    throw error;
  });
  return cached;
}

async function _read(): Promise<InstallTarget> {
  const py = await runHostCommand([
    HOST_PYTHON,
    '-c',
    'import sys; print("%d.%d.%d" % sys.version_info[:3])',
  ]);
  const python = py.stdout.trim();
  if (py.code !== 0 || !/^\d+\.\d+\.\d+$/.test(python)) {
    throw new PkghuntError(
      'CAPABILITY_MISSING',
      `Cannot read the version of ${HOST_PYTHON}: ${py.stderr.trim()}`,
      {
        hint: 'apt-get install python3',
      },
    );
  }
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  const glibc = /^(\d+)\.(\d+)/.exec(header?.glibcVersionRuntime ?? '');
  return {
    python,
    arch: ARCH[process.arch] ?? process.arch,
    glibc: glibc ? [Number(glibc[1]), Number(glibc[2])] : null,
  };
}
