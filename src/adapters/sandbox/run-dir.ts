import { chmod, chown, copyFile, mkdir, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CanarySet } from '../../core/canary/make-canaries.ts';
import { PkghuntError } from '../../core/errors.ts';
import { SANDBOX_LAYOUT } from '../../core/sandbox/layout.ts';
import { runHostCommand } from './run-host-command.ts';
import { RUNNER_MODULE, type RunnerFiles } from './runner-files.ts';

/**
 * The host side of one sandbox: a tmpfs of `disk_mb` holding everything writable inside, so a
 * disk filler stops at its size and nothing the package writes touches the host's disks.
 * Sub-directories, bound at SANDBOX_LAYOUT paths: home, workdir, tmp, vartmp, shm, venv (owned by
 * the sandbox uid); etc and pkghunt (root-owned, bound read-only).
 */
/**
 * Everything writable lives under `root`, which becomes the sandbox's `/`: one mount, as on a
 * normal machine, so a rename from /tmp to the home directory works (separate bind mounts made
 * it fail with EXDEV, which broke real packages). Permissions, not mounts, keep the rest of `/`
 * read-only: it is owned by host root, which the sandbox's user namespace does not map.
 */
export const RUN_DIR_PARTS = {
  root: 'root',
  home: `root${SANDBOX_LAYOUT.home}`,
  workdir: `root${SANDBOX_LAYOUT.workdir}`,
  tmp: `root${SANDBOX_LAYOUT.tmp}`,
  vartmp: 'root/var/tmp',
  shm: 'shm',
  venv: `root${SANDBOX_LAYOUT.venv}`,
  etc: 'etc',
  pkghunt: 'pkghunt',
} as const;

const LIVED_IN_HOME: Record<string, string> = {
  '.bashrc':
    '# ~/.bashrc: executed by bash(1) for non-login shells.\ncase $- in *i*) ;; *) return;; esac\nHISTCONTROL=ignoreboth\nalias ll="ls -alF"\nexport PATH="$HOME/.local/bin:$PATH"\n',
  '.profile': 'if [ -n "$BASH_VERSION" ] && [ -f "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi\n',
  '.bash_history': 'git pull\npip install -r requirements.txt\npytest -q\naws s3 ls\nkubectl get pods\n',
  '.gitconfig': '[user]\n\tname = CI Builder\n\temail = builder@ci.invalid\n[credential]\n\thelper = store\n',
};

const LIVED_IN_WORKDIR: Record<string, string> = {
  'README.md': '# app\n\nInternal service. Run `make test`.\n',
  'requirements.txt': 'requests>=2.31\n',
  '.gitlab-ci.yml':
    'test:\n  image: python:3.11\n  script:\n    - pip install -r requirements.txt\n    - pytest\n',
  '.git/HEAD': 'ref: refs/heads/main\n',
};

function _etcFiles(): Record<string, string> {
  const { user, uid, home, hostname } = SANDBOX_LAYOUT;
  return {
    passwd: `root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n${user}:x:${uid}:${uid}:CI Builder:${home}:/bin/bash\n`,
    group: `root:x:0:\nnogroup:x:65534:\n${user}:x:${uid}:\n`,
    hostname: `${hostname}\n`,
    hosts: `127.0.0.1\tlocalhost\n127.0.1.1\t${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
    // The netns runs a fake DNS on 127.0.0.1:53; without a netns, nothing answers (no network at all).
    'resolv.conf': 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n',
    'nsswitch.conf':
      'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n',
    'host.conf': 'multi on\n',
  };
}

/** Maps an absolute path inside the sandbox to the host path in the run dir, for home and workdir. */
export function hostPathOf(runDir: string, sandboxPath: string): string | null {
  const areas: [string, string][] = [
    [SANDBOX_LAYOUT.home, RUN_DIR_PARTS.home],
    [SANDBOX_LAYOUT.workdir, RUN_DIR_PARTS.workdir],
    [SANDBOX_LAYOUT.tmp, RUN_DIR_PARTS.tmp],
  ];
  for (const [prefix, part] of areas) {
    if (sandboxPath === prefix || sandboxPath.startsWith(`${prefix}/`)) {
      return join(runDir, part, sandboxPath.slice(prefix.length));
    }
  }
  return null;
}

async function _mkdirOwned(path: string, uid: number, mode: number): Promise<void> {
  await mkdir(path, { recursive: true });
  await chown(path, uid, uid);
  await chmod(path, mode);
}

async function _writeOwned(
  path: string,
  content: string,
  options: { uid: number; mode: number; root: string },
): Promise<void> {
  // Parents below the area root belong to the sandbox user too, as they would on a real machine.
  const parents: string[] = [];
  for (let dir = dirname(path); dir.startsWith(`${options.root}/`); dir = dirname(dir)) parents.unshift(dir);
  for (const dir of parents) await _mkdirOwned(dir, options.uid, basename(dir) === '.ssh' ? 0o700 : 0o755);
  await writeFile(path, content, { mode: options.mode });
  await chown(path, options.uid, options.uid);
  await chmod(path, options.mode);
}

/** Mounts the run dir's tmpfs and fills it. Throws SANDBOX_SETUP_FAILED, leaving nothing mounted. */
export async function prepareRunDir(
  runDir: string,
  options: {
    uid: number;
    diskMb: number;
    canaries: CanarySet;
    runner: RunnerFiles;
    localArtifact?: string | undefined;
  },
): Promise<void> {
  const { uid } = options;
  await mkdir(runDir, { recursive: false, mode: 0o700 });
  // Root-owned, group of the sandbox uid, 0710: only root and that uid can even traverse it.
  const mount = await runHostCommand([
    'mount',
    '-t',
    'tmpfs',
    '-o',
    `size=${Math.max(1, Math.floor(options.diskMb))}m,mode=0710,uid=0,gid=${uid},nosuid,nodev`,
    // A neutral source name: the package can read it in /proc/self/mountinfo.
    'tmpfs',
    runDir,
  ]);
  if (mount.code !== 0) {
    await rmdir(runDir).catch(() => undefined);
    throw new PkghuntError(
      'SANDBOX_SETUP_FAILED',
      `Cannot mount the tmpfs at ${runDir}: ${mount.stderr.trim()}`,
    );
  }
  try {
    const part = (name: keyof typeof RUN_DIR_PARTS) => join(runDir, RUN_DIR_PARTS[name]);
    // Mount points and the /bin-style symlinks must exist beforehand: inside, nobody may write to /.
    await mkdir(part('root'), { mode: 0o755 });
    for (const dir of ['usr', 'etc', 'proc', 'dev', 'run', 'pkghunt'])
      await mkdir(join(part('root'), dir), { mode: 0o755 });
    await mkdir(join(part('root'), 'root'), { mode: 0o700 });
    for (const dir of ['bin', 'lib', 'lib64', 'sbin']) await symlink(`usr/${dir}`, join(part('root'), dir));
    for (const name of ['home', 'workdir', 'venv'] as const) await _mkdirOwned(part(name), uid, 0o755);
    for (const name of ['tmp', 'vartmp', 'shm'] as const) await _mkdirOwned(part(name), uid, 0o1777);
    await mkdir(join(part('etc'), 'ssl'), { recursive: true, mode: 0o755 });
    await mkdir(join(part('etc'), 'alternatives'), { mode: 0o755 });
    await mkdir(join(part('pkghunt'), 'artifacts'), { recursive: true, mode: 0o755 });
    await Promise.all(
      Object.entries(_etcFiles()).map(([name, content]) =>
        writeFile(join(part('etc'), name), content, { mode: 0o644 }),
      ),
    );
    await copyFile('/etc/ld.so.cache', join(part('etc'), 'ld.so.cache')).catch(() => undefined);
    await symlink('../usr/lib/os-release', join(part('etc'), 'os-release'));
    // Executable: it starts through its own `#!` line (see runnerFiles).
    const { runner } = options;
    await writeFile(join(part('pkghunt'), basename(SANDBOX_LAYOUT.runner)), runner.stub, { mode: 0o755 });
    await writeFile(join(part('pkghunt'), `${RUNNER_MODULE}.py`), runner.source, { mode: 0o644 });
    if (runner.pyc !== null) {
      await mkdir(join(part('pkghunt'), '__pycache__'), { mode: 0o755 });
      await writeFile(join(part('pkghunt'), '__pycache__', runner.pyc.name), runner.pyc.bytes, {
        mode: 0o644,
      });
    }
    if (options.localArtifact !== undefined) {
      const target = join(part('pkghunt'), 'artifacts', basename(options.localArtifact));
      await copyFile(options.localArtifact, target);
      await chmod(target, 0o644);
    }
    for (const [name, content] of Object.entries(LIVED_IN_HOME)) {
      await _writeOwned(join(part('home'), name), content, { uid, mode: 0o644, root: part('home') });
    }
    for (const [name, content] of Object.entries(LIVED_IN_WORKDIR)) {
      await _writeOwned(join(part('workdir'), name), content, { uid, mode: 0o644, root: part('workdir') });
    }
    for (const file of options.canaries.files) {
      const host = hostPathOf(runDir, file.path);
      if (host === null) throw new Error(`canary path ${file.path} is outside home and workdir`);
      const root = host.startsWith(part('home')) ? part('home') : part('workdir');
      await _writeOwned(host, file.content, { uid, mode: file.mode, root });
    }
  } catch (error) {
    await removeRunDir(runDir);
    throw new PkghuntError(
      'SANDBOX_SETUP_FAILED',
      `Cannot prepare the run directory ${runDir}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

async function _isMountPoint(path: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point, with spaces and such octal-escaped.
  return info.split('\n').some((line) => line.split(' ')[4] === path);
}

/** Unmounts and removes the run dir; safe to call twice or on a half-made one. */
export async function removeRunDir(runDir: string): Promise<void> {
  for (let i = 0; i < 20 && (await _isMountPoint(runDir)); i++) {
    const result = await runHostCommand(i < 5 ? ['umount', runDir] : ['umount', '-l', runDir]);
    if (result.code !== 0) await new Promise((r) => setTimeout(r, 20));
  }
  await rm(runDir, { recursive: true, force: true });
}
