import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/**
 * What a run may leave behind on the host. Tests take a snapshot before and after and require
 * them to be equal: no namespaces, mounts, cgroups, run dirs or sandbox-uid processes remain.
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
