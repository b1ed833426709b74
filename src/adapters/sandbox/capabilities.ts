import { access, readFile } from 'node:fs/promises';
import { PkghuntError } from '../../core/errors.ts';
import { oncePerProcess } from '../once-per-process.ts';
import { type CgroupVersion, detectCgroupVersion } from './cgroups.ts';
import { runHostCommand } from './run-host-command.ts';

export const HOST_PYTHON = '/usr/bin/python3';
export const HOST_PIP_DIR = '/usr/lib/python3/dist-packages/pip';

export type HostTool = 'bwrap' | 'setpriv' | 'prlimit' | 'mount' | 'umount' | 'ip' | 'bash';

export interface SandboxCapabilities {
  bwrapVersion: string;
  /** Absolute paths of the launcher's tools: the launcher runs with the sandbox's PATH. */
  tools: Record<HostTool, string>;
  /** Null when no cgroup hierarchy offers memory+pids: limits then fall back to rlimits. */
  cgroup: CgroupVersion | null;
  /** How each limit is enforced here, for `sandbox.enforcement` in the record. */
  enforcement: Record<'timeout' | 'memory' | 'pids' | 'disk' | 'output', string>;
  python: string;
  pythonVersion: string;
  pipDir: string;
}

async function _exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function _missing(what: string, hint: string): PkghuntError {
  return new PkghuntError('CAPABILITY_MISSING', `Cannot run the sandbox: ${what}`, { hint });
}

export function enforcementFor(cgroup: CgroupVersion | null): SandboxCapabilities['enforcement'] {
  return {
    timeout: 'wall clock, SIGKILL of every process of the sandbox uid',
    memory: cgroup === null ? 'rlimit RLIMIT_AS per process' : `cgroup ${cgroup} memory limit, no swap`,
    pids: cgroup === null ? 'rlimit RLIMIT_NPROC on the sandbox uid' : `cgroup ${cgroup} pids.max`,
    disk: 'tmpfs size of the run directory',
    output: 'captured stdout+stderr byte count, SIGKILL beyond it',
  };
}

const TOOL_PACKAGES: Record<HostTool, string> = {
  bwrap: 'bubblewrap',
  setpriv: 'util-linux',
  prlimit: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  ip: 'iproute2',
  bash: 'bash',
};

/** Checks everything the sandbox needs on this host once per process; throws a typed error naming the fix. */
export const checkSandboxCapabilities: () => Promise<SandboxCapabilities> = oncePerProcess(() => _check());

async function _check(): Promise<SandboxCapabilities> {
  if (process.getuid?.() !== 0) {
    throw new PkghuntError('NOT_ROOT', 'Cannot run the sandbox: pkghunt is not running as root', {
      hint: 'Run it as root (sudo): it creates network namespaces, cgroups and tmpfs mounts.',
    });
  }
  const help = await runHostCommand(['bwrap', '--help']);
  if (help.code === null) throw _missing('bwrap is not installed', 'apt-get install bubblewrap');
  const helpText = help.stdout + help.stderr;
  for (const flag of ['--disable-userns', '--size', '--clearenv']) {
    if (!helpText.includes(flag)) {
      throw _missing(
        `bwrap lacks ${flag}`,
        'Install bubblewrap 0.8 or later (Debian 12: apt-get install bubblewrap).',
      );
    }
  }
  const version = (await runHostCommand(['bwrap', '--version'])).stdout.trim();
  const tools = {} as Record<HostTool, string>;
  for (const tool of ['bwrap', 'setpriv', 'prlimit', 'mount', 'umount', 'ip', 'bash'] as const) {
    const found = await runHostCommand(['sh', '-c', `command -v ${tool}`]);
    if (found.code !== 0 || !found.stdout.startsWith('/')) {
      throw _missing(`${tool} is not installed`, `apt-get install ${TOOL_PACKAGES[tool]}`);
    }
    tools[tool] = found.stdout.trim();
  }
  const userns = await readFile('/proc/sys/user/max_user_namespaces', 'utf8').catch(() => '1');
  if (Number(userns.trim()) === 0)
    throw _missing('user namespaces are disabled', 'sysctl user.max_user_namespaces=15000');
  const clone = await readFile('/proc/sys/kernel/unprivileged_userns_clone', 'utf8').catch(() => '1');
  if (clone.trim() === '0') {
    throw _missing('unprivileged user namespaces are disabled', 'sysctl kernel.unprivileged_userns_clone=1');
  }
  // The real test: an unprivileged uid must be able to start bwrap (AppArmor or seccomp can still forbid it).
  const probe = await runHostCommand([
    'setpriv',
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    '--no-new-privs',
    'bwrap',
    '--unshare-user',
    '--unshare-pid',
    '--disable-userns',
    '--ro-bind',
    '/usr',
    '/usr',
    '--symlink',
    'usr/bin',
    '/bin',
    '--symlink',
    'usr/lib',
    '/lib',
    '--symlink',
    'usr/lib64',
    '/lib64',
    '/usr/bin/true',
  ]);
  if (probe.code !== 0) {
    throw _missing(
      `an unprivileged user cannot start bwrap (${probe.stderr.trim()})`,
      'Enable unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1 and, on Ubuntu, kernel.apparmor_restrict_unprivileged_userns=0.',
    );
  }
  const py = await runHostCommand([
    HOST_PYTHON,
    '-c',
    'import venv, sys; print("%d.%d" % sys.version_info[:2])',
  ]);
  if (py.code !== 0)
    throw _missing(`${HOST_PYTHON} with venv is missing`, 'apt-get install python3 python3-venv');
  if (!(await _exists(`${HOST_PIP_DIR}/__init__.py`))) {
    throw _missing(`pip is missing at ${HOST_PIP_DIR}`, 'apt-get install python3-pip');
  }
  const cgroup = await detectCgroupVersion();
  return {
    bwrapVersion: version,
    tools,
    cgroup,
    enforcement: enforcementFor(cgroup),
    python: HOST_PYTHON,
    pythonVersion: py.stdout.trim(),
    pipDir: HOST_PIP_DIR,
  };
}
