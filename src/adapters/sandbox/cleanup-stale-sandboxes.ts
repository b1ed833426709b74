import { readdir, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { cgroupDirs, killCgroupProcs, removeCgroupDirs } from './cgroups.ts';
import { DEFAULT_STATE_DIR } from './create-sandbox.ts';
import { isPidAlive, killUid } from './proc-scan.ts';
import { removeRunDir } from './run-dir.ts';
import { uidLockDir } from './uid-lock.ts';

const OwnerRecord = z.object({
  pid: z.number().int(),
  uid: z.number().int(),
  runDir: z.string(),
  cgroup: z.enum(['v1', 'v2']).nullable(),
});

/** An analysis's work dir (traces, capture) is `pkghunt-analyze-<owner pid>-XXXXXX` in the temp dir. */
export const WORK_DIR_PREFIX = 'pkghunt-analyze-';

export function workDirPrefix(pid: number = process.pid): string {
  return `${WORK_DIR_PREFIX}${pid}-`;
}

/**
 * Removes the analysis work dirs (src/app/analyze.ts) whose owning process is gone: a SIGKILLed
 * analysis cannot remove its own. A dir whose pid is alive, or whose name has no pid, is kept.
 * Returns the names removed.
 */
export async function cleanupStaleWorkDirs(options: { tmpDir?: string } = {}): Promise<string[]> {
  const dir = options.tmpDir ?? tmpdir();
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = name.startsWith(WORK_DIR_PREFIX)
      ? /^(\d+)-./.exec(name.slice(WORK_DIR_PREFIX.length))?.[1]
      : undefined;
    if (pid === undefined || isPidAlive(Number(pid))) continue;
    await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

/**
 * Undoes sandboxes whose owning pkghunt process died (crash, SIGKILL): kills their processes,
 * removes their cgroups, tmpfs and run dir, frees their uids and removes their work dirs. Returns
 * the ids cleaned.
 */
export async function cleanupStaleSandboxes(
  options: { stateDir?: string; tmpDir?: string } = {},
): Promise<string[]> {
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const runs = join(stateDir, 'runs');
  const cleaned: string[] = [];
  const names = await readdir(runs).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.endsWith('.owner.json')) continue;
    const id = name.slice(0, -'.owner.json'.length);
    const path = join(runs, name);
    const parsed = OwnerRecord.safeParse(
      await readFile(path, 'utf8')
        .then((text) => JSON.parse(text) as unknown)
        .catch(() => null),
    );
    if (!parsed.success || isPidAlive(parsed.data.pid)) continue;
    const owner = parsed.data;
    if (owner.cgroup !== null) {
      const dirs = cgroupDirs(owner.cgroup, `pkghunt-${id}`);
      await killCgroupProcs(dirs);
      await removeCgroupDirs(dirs).catch(() => undefined);
    }
    await killUid(owner.uid);
    // Only a path this state dir owns is ever removed, whatever the record says.
    if (owner.runDir === join(runs, id)) await removeRunDir(owner.runDir);
    await unlink(join(uidLockDir(stateDir), `${owner.uid}.lock`)).catch(() => undefined);
    await unlink(path).catch(() => undefined);
    cleaned.push(id);
  }
  // Uid locks whose owner died without an owner record (crash during set-up).
  const locks = await readdir(uidLockDir(stateDir)).catch(() => [] as string[]);
  for (const lock of locks) {
    const pid = Number.parseInt(await readFile(join(uidLockDir(stateDir), lock), 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && !isPidAlive(pid)) {
      await unlink(join(uidLockDir(stateDir), lock)).catch(() => undefined);
    }
  }
  await cleanupStaleWorkDirs(options.tmpDir === undefined ? {} : { tmpDir: options.tmpDir });
  return cleaned;
}
