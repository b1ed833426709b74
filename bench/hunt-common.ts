/**
 * Helpers shared by the issue-3 benchmarks (hunt throughput, storage, index sync, estimate):
 * machine description, load average, CPU accounting of a child process tree, section files.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export function machineLine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  let python = 'Python ?';
  try {
    python = execFileSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // Shown as unknown; the runs themselves fail loudly without Python.
  }
  return (
    `${availableParallelism()} CPUs (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
    `Linux ${release()}, Node ${process.versions.node}, ${python}`
  );
}

export async function loadAverage(): Promise<string> {
  const raw = await readFile('/proc/loadavg', 'utf8').catch(() => '');
  return raw.split(' ').slice(0, 3).join(' ') || '?';
}

export function utcNow(): string {
  return `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const CPUACCT = '/sys/fs/cgroup/cpuacct';

export interface ChildRun {
  code: number | null;
  wallMs: number;
  /** user+sys CPU of the child and every process it started (cgroup v1 cpuacct), ms. */
  cpuMs: number | null;
  stdout: string;
  stderrTail: string;
}

/**
 * Runs a command in a cpuacct cgroup of its own, so that its CPU time counts every descendant
 * (sandboxed processes, strace, netsvc, pip's build subprocesses), also those no parent waited
 * for, which getrusage(RUSAGE_CHILDREN) would miss. The sandbox's own memory/pids cgroups are
 * other hierarchies and do not move the processes out of this one.
 */
export async function runAccounted(
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; tag: string; onLine?: (line: string, atMs: number) => void },
): Promise<ChildRun> {
  const group = join(CPUACCT, `pkghunt-bench-${options.tag}-${process.pid}`);
  const accounted = await mkdir(group).then(
    () => true,
    () => false,
  );
  const started = performance.now();
  try {
    // The shell joins the cgroup before exec-ing the command, so nothing runs outside it.
    const script = accounted ? `echo $$ > ${group}/cgroup.procs && exec "$@"` : 'exec "$@"';
    const child = spawn('/bin/sh', ['-c', script, 'sh', ...argv], {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let partial = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (options.onLine === undefined) return;
      const at = performance.now() - started;
      const lines = (partial + c).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) options.onLine(line, at);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr = (stderr + c).slice(-4000);
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => resolve(c));
    });
    const wallMs = performance.now() - started;
    let cpuMs: number | null = null;
    if (accounted) {
      const ns = Number.parseInt(await readFile(join(group, 'cpuacct.usage'), 'utf8'), 10);
      cpuMs = Number.isFinite(ns) ? ns / 1e6 : null;
    }
    return { code, wallMs, cpuMs, stdout, stderrTail: stderr };
  } finally {
    if (accounted) await removeGroup(group);
  }
}

async function removeGroup(group: string): Promise<void> {
  // A process still dying keeps the group busy for a moment.
  for (let i = 0; i < 50; i++) {
    try {
      await rmdir(group);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  log(`could not remove ${group}`);
}

export async function writeFileMaking(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}
