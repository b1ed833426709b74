import { readdir, readFile, stat } from 'node:fs/promises';

/** Pids of live (non-zombie) host processes whose uid is `uid`: each sandbox owns its uid alone. */
export async function listPidsOfUid(uid: number): Promise<number[]> {
  const names = await readdir('/proc');
  const pids: number[] = [];
  await Promise.all(
    names.map(async (name) => {
      if (!/^\d+$/.test(name)) return;
      try {
        // The owner of /proc/PID is the process's effective uid: a stat is far cheaper than reading status.
        if ((await stat(`/proc/${name}`)).uid !== uid) return;
        const status = await readFile(`/proc/${name}/status`, 'utf8');
        const state = /^State:\s+(\S)/m.exec(status);
        if (state?.[1] !== 'Z' && state?.[1] !== 'X') pids.push(Number(name));
      } catch {
        // The process exited while we were reading /proc.
      }
    }),
  );
  return pids.sort((a, b) => a - b);
}

/** SIGKILLs every process of `uid` until none is left (a fork loop can respawn between scans). */
export async function killUid(uid: number, options: { rounds?: number } = {}): Promise<void> {
  const rounds = options.rounds ?? 50;
  for (let i = 0; i < rounds; i++) {
    const pids = await listPidsOfUid(uid);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
