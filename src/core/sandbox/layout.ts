/**
 * Paths as the sandboxed package sees them. The record reports paths in these terms, and the
 * trace parser's noise areas are expressed with them, so they live in the core.
 */
export const SANDBOX_LAYOUT = {
  user: 'builder',
  uid: 1000,
  hostname: 'ci-runner',
  home: '/home/builder',
  /** The working directory pip runs from: looks like a CI checkout, with a .git/config holding a token. */
  workdir: '/builds/app',
  venv: '/opt/venv',
  tmp: '/tmp',
  /** Read-only: the in-sandbox runner and local artifacts. */
  pkghuntDir: '/pkghunt',
  runner: '/pkghunt/runner.py',
  /**
   * Opened by the runner (it does not exist) between the phases of a two-phase launch: the trace
   * is split at that line of the runner's pid (see PhaseTraceSplit). Same path in sandbox/runner.py.
   */
  phaseMark: '/pkghunt/.phase-import',
  artifactsDir: '/pkghunt/artifacts',
  python: '/usr/bin/python3',
} as const;
