import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../config.ts';
import { SANDBOX_LAYOUT } from '../../core/sandbox/layout.ts';
import { oncePerProcess } from '../once-per-process.ts';

const run = promisify(execFile);
const RUNNER_HOST_PATH = join(PROJECT_ROOT, 'sandbox', 'runner.py');
/** The runner's code as a module under /pkghunt; SANDBOX_LAYOUT.runner only starts it. */
export const RUNNER_MODULE = 'pkghunt_runner';

/** What goes into the sandbox's read-only /pkghunt for the runner (see prepareRunDir). */
export interface RunnerFiles {
  /** SANDBOX_LAYOUT.runner: `#!` line, then imports the module and calls its main(). */
  stub: string;
  /** The module's source, `/pkghunt/<RUNNER_MODULE>.py`. */
  source: string;
  /**
   * Its byte-code, compiled on the host by the sandbox's own interpreter, for
   * `/pkghunt/__pycache__/<name>`: the sandbox cannot write there, so without it every phase
   * would compile the runner again (~6 ms, more under the tracer). Null when it could not be made:
   * the runner then compiles in memory, as before.
   */
  pyc: { name: string; bytes: Buffer } | null;
}

/** The runner's files, made once per process. */
export const runnerFiles: () => Promise<RunnerFiles> = oncePerProcess(() => _make());

async function _make(): Promise<RunnerFiles> {
  const source = await readFile(RUNNER_HOST_PATH, 'utf8');
  // `-I -S` (isolated, no site): no .pth file or PYTHON* variable reaches the runner, which uses
  // the standard library only (pip, its child, starts normally). The trace still knows it as the
  // runner: its exec's file is SANDBOX_LAYOUT.runner.
  const stub = [
    `#!${SANDBOX_LAYOUT.python} -IS`,
    `# pkghunt's runner: its code is ${SANDBOX_LAYOUT.pkghuntDir}/${RUNNER_MODULE}.py, byte-compiled by the host.`,
    'import sys',
    `sys.path.insert(0, ${JSON.stringify(SANDBOX_LAYOUT.pkghuntDir)})`,
    `import ${RUNNER_MODULE}`,
    '',
    `${RUNNER_MODULE}.main()`,
    '',
  ].join('\n');
  return { stub, source, pyc: await _compile(source) };
}

/**
 * Compiles the runner with the sandbox's interpreter (the sandbox binds the host's /usr), as an
 * unchecked-hash pyc: loaded without comparing the source's mtime, which the copy into each
 * sandbox changes.
 */
async function _compile(source: string): Promise<RunnerFiles['pyc']> {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-runner-pyc-'));
  try {
    const file = join(dir, `${RUNNER_MODULE}.py`);
    await writeFile(file, source);
    const { stdout } = await run(
      SANDBOX_LAYOUT.python,
      [
        '-IS',
        '-c',
        'import py_compile, sys; print(py_compile.compile(sys.argv[1], doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH))',
        file,
      ],
      { timeout: 30_000 },
    );
    const compiled = stdout.trim();
    return { name: basename(compiled), bytes: await readFile(compiled) };
  } catch {
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
