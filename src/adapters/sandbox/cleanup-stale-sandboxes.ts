import { readdir, readFile, unlink } from 'node:fs/promises';
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

/**
 * Undoes sandboxes whose owning pkghunt process died (crash, SIGKILL): kills their processes,
 * removes their cgroups, tmpfs and run dir, and frees their uids. Returns the ids cleaned.
 */
export async function cleanupStaleSandboxes(options: { stateDir?: string } = {}): Promise<string[]> {
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
  return cleaned;
}
