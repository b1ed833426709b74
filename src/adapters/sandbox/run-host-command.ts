import { execFile } from 'node:child_process';

export interface HostCommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a short host command (mount, umount, bwrap --help) with a clean PATH; never throws on a non-zero exit. */
export function runHostCommand(
  argv: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<HostCommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.resolve({ code: null, stdout: '', stderr: 'empty argv' });
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        timeout: options.timeoutMs ?? 10_000,
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
        maxBuffer: 4 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({
          code,
          stdout: String(stdout),
          stderr: error && code === null ? `${stderr}${error.message}` : String(stderr),
        });
      },
    );
  });
}
