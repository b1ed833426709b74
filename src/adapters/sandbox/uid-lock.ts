import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PkghuntError } from '../../core/errors.ts';
import { isPidAlive, listPidsOfUid } from './proc-scan.ts';

export const DEFAULT_UID_BASE = 200_000;
export const DEFAULT_UID_COUNT = 1000;

export function uidLockDir(stateDir: string): string {
  return join(stateDir, 'uids');
}

async function _passwdUids(): Promise<Set<number>> {
  try {
    const text = await readFile('/etc/passwd', 'utf8');
    return new Set(text.split('\n').map((line) => Number(line.split(':')[2])));
  } catch {
    return new Set();
  }
}

async function _lockOwner(path: string): Promise<number | null> {
  try {
    const pid = Number.parseInt(await readFile(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Allocates a host uid no one else uses: an O_EXCL lock file per uid holding the owner pid, so
 * concurrent pkghunt processes never share one. Locks of dead owners are reclaimed.
 */
export async function allocateUid(options: {
  stateDir: string;
  base?: number;
  count?: number;
}): Promise<number> {
  const dir = uidLockDir(options.stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const base = options.base ?? DEFAULT_UID_BASE;
  const count = options.count ?? DEFAULT_UID_COUNT;
  const taken = await _passwdUids();
  for (let uid = base; uid < base + count; uid++) {
    if (taken.has(uid)) continue;
    const path = join(dir, `${uid}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx', 0o600);
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        // A process still running as this uid (a leftover nobody cleaned) makes it unusable.
        if ((await listPidsOfUid(uid)).length > 0) {
          await unlink(path);
          break;
        }
        return uid;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = await _lockOwner(path);
        if (owner !== null && isPidAlive(owner)) break;
        if (owner === null && attempt === 0) {
          // Possibly being written right now; do not steal it.
          break;
        }
        await unlink(path).catch(() => undefined);
      }
    }
  }
  throw new PkghuntError(
    'SANDBOX_SETUP_FAILED',
    `Cannot allocate a sandbox uid in ${base}-${base + count - 1}`,
    {
      hint: `Every uid in the range is locked under ${dir}; run fewer sandboxes at once or set PKGHUNT_UID_BASE.`,
    },
  );
}

export async function releaseUid(uid: number, options: { stateDir: string }): Promise<void> {
  const path = join(uidLockDir(options.stateDir), `${uid}.lock`);
  const owner = await _lockOwner(path);
  if (owner === process.pid) await unlink(path).catch(() => undefined);
}
