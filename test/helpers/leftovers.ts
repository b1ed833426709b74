import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/**
 * What a run may leave behind on the host. Tests take a snapshot before and check with
 * `newLeftovers` that nothing appeared since: no namespaces, mounts, cgroups, run dirs, temp dirs or
 * sandbox-uid processes of their own remain (what disappeared, or belongs to another live pkghunt
 * process on a shared machine, is not theirs).
 */
export interface HostSnapshot {
  netns: string[];
  mounts: string[];
  cgroups: string[];
  runDirs: string[];
  sandboxProcesses: string[];
  tempDirs: string[];
}

function list(dir: string, prefix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith(prefix))
    .sort();
}

export function snapshotHost(uidRange: [number, number] = [200000, 201000]): HostSnapshot {
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith('pkghunt-'))
    .sort();
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.includes('pkghunt'))
    .sort();
  const cgroups = ['memory', 'pids'].flatMap((c) =>
    list(`/sys/fs/cgroup/${c}`, 'pkghunt-').map((n) => `${c}/${n}`),
  );
  const sandboxProcesses: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (uid >= uidRange[0] && uid < uidRange[1]) sandboxProcesses.push(`${pid} uid ${uid}`);
    } catch {
      // the process ended while we looked
    }
  }
  return {
    netns,
    mounts,
    cgroups,
    runDirs: list('/run/pkghunt/runs', ''),
    sandboxProcesses,
    tempDirs: list('/tmp', 'pkghunt-analyze-'),
  };
}

/**
 * What appeared on the host since `before`, minus what belongs to other live pkghunt processes
 * (other test suites or benchmarks may run sandboxes at the same time on this machine).
 */
function leftoversOnce(before: HostSnapshot): string[] {
  const after = snapshotHost();
  const foreign = after.netns
    .map((name) => /^pkghunt-(\d+)-(.+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && isAlive(Number(m[1])))
    .map((m) => m[2] ?? '');
  const added: string[] = [];
  for (const key of Object.keys(after) as (keyof HostSnapshot)[]) {
    for (const item of after[key]) {
      if (before[key].includes(item)) continue;
      const owner = key === 'sandboxProcesses' ? cgroupOf(item) : item;
      if (owner === null || foreign.some((id) => id !== '' && owner.includes(id))) continue;
      added.push(`${key}: ${item}`);
    }
  }
  return added;
}

/** Leftovers seen on three looks a second apart: other runs' sandboxes come and go in between. */
export async function newLeftovers(before: HostSnapshot): Promise<string[]> {
  let common = leftoversOnce(before);
  for (let i = 0; i < 2 && common.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = new Set(leftoversOnce(before));
    common = common.filter((item) => now.has(item));
  }
  return common;
}

/** The cgroups of a listed sandbox process ("PID uid N"), naming its run; null once it is gone. */
function cgroupOf(item: string): string | null {
  try {
    return readFileSync(`/proc/${item.split(' ')[0]}/cgroup`, 'utf8');
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
