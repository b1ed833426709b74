import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface BareInstallResult {
  ok: boolean;
  /** mkdtemp + venv + pip + rm: the whole life of the throw-away environment. */
  wallMs: number;
  /** venv + pip: what the sandbox's install phase runs (its runner creates the venv too). */
  innerMs: number;
  exitCode: number | null;
  stderrTail: string;
}

/** Host interpreter the sandbox binds read-only; the bare variant must use the same one. */
export const HOST_PYTHON = '/usr/bin/python3';
/** tmpfs, like the sandbox's run dir: the disk is no part of the difference measured. */
const SCRATCH_PARENT = '/dev/shm';

function runToEnd(
  argv: readonly string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<{ code: number | null; stderr: string }> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('Cannot run an empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Debian's pip, whose runner file the sandbox's runner starts directly (sandbox/runner.py pip_command). */
const PIP_RUNNER = '/usr/lib/python3/dist-packages/pip/__pip-runner__.py';

/**
 * The "bare" baseline: a fresh venv and pip install on the host with no sandbox and no tracer,
 * with a fresh empty cache and the environment sandbox/runner.py gives pip. Only for packages that
 * are safe on the host (bench/bench-packages.ts).
 * - default: `python3 -m pip --python VENV install ...`, the command a user types to install into a
 *   fresh venv that has no pip of its own (pip then re-runs itself under the venv's interpreter);
 * - `likeRunner`: pip exactly as the sandbox's runner starts it (the venv's interpreter running
 *   pip's runner file, one pip process instead of two, and `--no-compile`): the same pip work as the
 *   hunt, so the difference left is the sandbox, the tracer and the rest of the analysis.
 */
export async function bareInstall(
  target: string,
  options: { indexUrl: string; timeoutMs?: number; likeRunner?: boolean },
): Promise<BareInstallResult> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const started = performance.now();
  const dir = await mkdtemp(join(SCRATCH_PARENT, 'pkghunt-bench-'));
  try {
    const home = join(dir, 'home');
    const tmp = join(dir, 'tmp');
    const work = join(dir, 'work');
    await Promise.all([home, tmp, work].map((d) => mkdir(d)));
    const venv = join(dir, 'venv');
    const env = {
      HOME: home,
      PATH: `${venv}/bin:/usr/bin:/bin`,
      LANG: 'C.UTF-8',
      TMPDIR: tmp,
      VIRTUAL_ENV: venv,
      PIP_CONFIG_FILE: '/dev/null',
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
    };
    const innerStart = performance.now();
    const made = await runToEnd([HOST_PYTHON, '-m', 'venv', '--without-pip', venv], {
      cwd: work,
      env,
      timeoutMs,
    });
    const pip =
      made.code !== 0
        ? made
        : await runToEnd(
            [
              ...(options.likeRunner === true
                ? [join(venv, 'bin', 'python'), PIP_RUNNER]
                : [HOST_PYTHON, '-m', 'pip', '--python', join(venv, 'bin', 'python')]),
              'install',
              ...(options.likeRunner === true ? ['--no-compile'] : []),
              '--isolated',
              '--disable-pip-version-check',
              '--no-input',
              '--progress-bar',
              'off',
              '--index-url',
              options.indexUrl,
              target,
            ],
            { cwd: work, env, timeoutMs },
          );
    const innerMs = performance.now() - innerStart;
    await rm(dir, { recursive: true, force: true });
    return {
      ok: pip.code === 0,
      wallMs: performance.now() - started,
      innerMs,
      exitCode: pip.code,
      stderrTail: pip.stderr,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
