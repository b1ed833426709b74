import { join } from 'node:path';
import { SANDBOX_LAYOUT } from '../../core/sandbox/layout.ts';
import { RUN_DIR_PARTS } from './run-dir.ts';

export const SANDBOX_PATH = '/opt/venv/bin:/usr/local/bin:/usr/bin:/bin';

/** The sandbox's environment: what a CI job would have, plus the canary variables. Nothing from the host. */
export function sandboxEnv(canaryEnv: Record<string, string>): Record<string, string> {
  return {
    HOME: SANDBOX_LAYOUT.home,
    USER: SANDBOX_LAYOUT.user,
    LOGNAME: SANDBOX_LAYOUT.user,
    SHELL: '/bin/bash',
    HOSTNAME: SANDBOX_LAYOUT.hostname,
    PATH: SANDBOX_PATH,
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    TMPDIR: SANDBOX_LAYOUT.tmp,
    VIRTUAL_ENV: SANDBOX_LAYOUT.venv,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    CI: 'true',
    GITLAB_CI: 'true',
    CI_PROJECT_DIR: SANDBOX_LAYOUT.workdir,
    ...canaryEnv,
  };
}

/**
 * bwrap arguments for the sandbox layout (see SANDBOX-NOTES.md). Mount order matters: the root
 * (the run dir's `root`, see RUN_DIR_PARTS) first, binds on top of it after.
 */
export function bwrapArgs(runDir: string, options: { unshareNet: boolean; bwrap: string }): string[] {
  const part = (name: keyof typeof RUN_DIR_PARTS) => join(runDir, RUN_DIR_PARTS[name]);
  const L = SANDBOX_LAYOUT;
  return [
    options.bwrap,
    '--unshare-user',
    '--unshare-pid',
    // The command itself is pid 1: no bwrap reaper whose argv gives the sandbox away, and pid 1
    // ignores signals it has no handler for, so the package cannot kill the runner.
    '--as-pid-1',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup',
    ...(options.unshareNet ? ['--unshare-net'] : []),
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--hostname',
    L.hostname,
    '--uid',
    String(L.uid),
    '--gid',
    String(L.uid),
    '--bind',
    part('root'),
    '/',
    '--ro-bind',
    '/usr',
    '/usr',
    '--ro-bind',
    part('etc'),
    '/etc',
    '--ro-bind-try',
    '/etc/ssl',
    '/etc/ssl',
    '--ro-bind-try',
    '/etc/alternatives',
    '/etc/alternatives',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--bind',
    part('shm'),
    '/dev/shm',
    '--ro-bind',
    part('pkghunt'),
    L.pkghuntDir,
    '--size',
    String(1024 * 1024),
    '--perms',
    '0755',
    '--tmpfs',
    '/run',
    '--chdir',
    L.workdir,
    // The environment comes from the launcher's own (see sandboxEnv), never from argv: canary values
    // in an argv would show in the trace as if the package had put them there. bash adds these:
    ...['OLDPWD', 'SHLVL', '_'].flatMap((name) => ['--unsetenv', name]),
    '--setenv',
    'PWD',
    L.workdir,
  ];
}

/** Drops from host root to the sandbox's own unprivileged uid before anything else runs. */
export function setprivArgs(hostUid: number, options: { setpriv: string }): string[] {
  return [
    options.setpriv,
    `--reuid=${hostUid}`,
    `--regid=${hostUid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
    '--no-new-privs',
  ];
}

/**
 * The first step of every launch, run as root outside the sandbox: closes every inherited fd above
 * `lastFd` (the launch's own: 3 for the result, 6 for a two-phase launch; a host pipe pkghunt itself
 * inherited must not reach the package), moves itself into the cgroups, then execs the rest.
 */
export function launcherPrefix(
  cgroupProcsFiles: readonly string[],
  options: { bash: string; lastFd?: number },
): string[] {
  const join = cgroupProcsFiles.map((file) => `echo $$ > ${file} && `).join('');
  const lastFd = options.lastFd ?? 3;
  const closeFds = `for f in /proc/$$/fd/*; do n=\${f##*/}; [ "$n" -gt ${lastFd} ] && eval "exec $n>&-"; done; `;
  return [options.bash, '-c', `${closeFds}${join}exec "$@"`, 'pkghunt-launch'];
}
