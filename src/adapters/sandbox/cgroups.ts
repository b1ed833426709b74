import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PkghuntError } from '../../core/errors.ts';

export type CgroupVersion = 'v1' | 'v2';

const ROOT = '/sys/fs/cgroup';

export interface CgroupCounters {
  oomKills: number;
  pidsMaxEvents: number;
}

/** The memory and pids cgroups of one sandbox. Every sandboxed process joins them before exec. */
export interface SandboxCgroups {
  readonly version: CgroupVersion;
  /** Directories, memory first. */
  readonly dirs: readonly string[];
  /** The cgroup.procs files a launcher writes its pid to, so everything it execs is inside. */
  procsFiles(): string[];
  procs(): Promise<number[]>;
  counters(): Promise<CgroupCounters>;
  killAll(): Promise<void>;
  remove(): Promise<void>;
}

async function _exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Which cgroup hierarchy offers both memory and pids controllers here, or null. */
export async function detectCgroupVersion(): Promise<CgroupVersion | null> {
  if (
    (await _exists(`${ROOT}/memory/memory.limit_in_bytes`)) &&
    (await _exists(`${ROOT}/pids/cgroup.procs`))
  ) {
    return 'v1';
  }
  try {
    const controllers = (await readFile(`${ROOT}/cgroup.controllers`, 'utf8')).split(/\s+/);
    if (controllers.includes('memory') && controllers.includes('pids')) return 'v2';
  } catch {
    // No unified hierarchy at the root.
  }
  return null;
}

export function cgroupDirs(version: CgroupVersion, name: string): string[] {
  return version === 'v1' ? [`${ROOT}/memory/${name}`, `${ROOT}/pids/${name}`] : [`${ROOT}/${name}`];
}

function _field(text: string, key: string): number {
  const match = new RegExp(`^${key}\\s+(\\d+)`, 'm').exec(text);
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

async function _read(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

async function _tryWrite(path: string, value: string): Promise<void> {
  try {
    await writeFile(path, value);
  } catch {
    // Optional knob (swap accounting off, for instance).
  }
}

export async function removeCgroupDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (let i = 0; i < 50; i++) {
      try {
        await rmdir(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || i === 49) throw error;
        // Killed tasks leave the cgroup a moment after SIGKILL.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
}

export async function cgroupProcs(dirs: readonly string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of dirs) {
    for (const line of (await _read(join(dir, 'cgroup.procs'))).split('\n')) {
      if (line.trim() !== '') pids.add(Number(line));
    }
  }
  return [...pids].sort((a, b) => a - b);
}

export async function killCgroupProcs(dirs: readonly string[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const pids = await cgroupProcs(dirs);
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

/** Creates the cgroups `pkghunt-<id>` with the memory (no swap) and pids limits. */
export async function createCgroups(
  id: string,
  options: { version: CgroupVersion; memoryBytes: number; pids: number },
): Promise<SandboxCgroups> {
  const { version } = options;
  const dirs = cgroupDirs(version, `pkghunt-${id}`);
  const [memDir, pidsDir] =
    version === 'v1' ? [dirs[0] ?? '', dirs[1] ?? ''] : [dirs[0] ?? '', dirs[0] ?? ''];
  const created: string[] = [];
  try {
    if (version === 'v2') {
      await _tryWrite(`${ROOT}/cgroup.subtree_control`, '+memory +pids');
    }
    for (const dir of dirs) {
      await mkdir(dir);
      created.push(dir);
    }
    const memory = String(Math.floor(options.memoryBytes));
    if (version === 'v1') {
      await writeFile(join(memDir, 'memory.limit_in_bytes'), memory);
      await _tryWrite(join(memDir, 'memory.memsw.limit_in_bytes'), memory);
      await _tryWrite(join(memDir, 'memory.swappiness'), '0');
    } else {
      await writeFile(join(memDir, 'memory.max'), memory);
      await _tryWrite(join(memDir, 'memory.swap.max'), '0');
    }
    await writeFile(join(pidsDir, 'pids.max'), String(options.pids));
  } catch (error) {
    // Only what this call made: an existing dir may belong to a live sandbox with the same id.
    await removeCgroupDirs(created).catch(() => undefined);
    throw new PkghuntError(
      'SANDBOX_SETUP_FAILED',
      `Cannot create cgroup pkghunt-${id}: ${(error as Error).message}`,
      {
        cause: error,
        hint: 'Check that the memory and pids cgroup controllers are mounted and writable by root.',
      },
    );
  }
  return {
    version,
    dirs,
    procsFiles() {
      return dirs.map((dir) => join(dir, 'cgroup.procs'));
    },
    procs() {
      return cgroupProcs(dirs);
    },
    async counters() {
      const memText = await _read(join(memDir, version === 'v1' ? 'memory.oom_control' : 'memory.events'));
      const pidsText = await _read(join(pidsDir, 'pids.events'));
      let oomKills = _field(memText, 'oom_kill');
      if (version === 'v1' && !/^oom_kill\s/m.test(memText)) {
        // Kernels before 4.13 lack the oom_kill counter; a failed charge is the next best sign.
        oomKills = Number((await _read(join(memDir, 'memory.failcnt'))).trim()) || 0;
      }
      return { oomKills, pidsMaxEvents: _field(pidsText, 'max') };
    },
    async killAll() {
      if (version === 'v2' && (await _exists(join(memDir, 'cgroup.kill')))) {
        await _tryWrite(join(memDir, 'cgroup.kill'), '1');
      }
      await killCgroupProcs(dirs);
    },
    async remove() {
      await killCgroupProcs(dirs);
      await removeCgroupDirs(dirs);
    },
  };
}
