import { PkghuntError } from '../../core/errors.ts';
import { defaultPython } from './default-python.ts';
import { runCommand } from './run-command.ts';

/** Tools found per interpreter: checked once per process (three spawns per analysis otherwise). */
const checked = new Map<string, Promise<void>>();

/**
 * Fails early, with a hint, when the host cannot build a network sandbox: root is needed for
 * network namespaces, `ip` and `nft` to set them up, python3 to run sandbox/netsvc.py.
 */
export async function checkNetworkCapabilities(options: { python?: string } = {}): Promise<void> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new PkghuntError('NOT_ROOT', 'Cannot create network namespaces as a non-root user', {
      hint: 'Run pkghunt as root (network namespaces and nftables need CAP_SYS_ADMIN and CAP_NET_ADMIN).',
    });
  }
  const python = options.python ?? defaultPython();
  let check = checked.get(python);
  if (check === undefined) {
    check = _checkTools(python).catch((error: unknown) => {
      checked.delete(python);
      throw error;
    });
    checked.set(python, check);
  }
  await check;
}

async function _checkTools(python: string): Promise<void> {
  const tools: { argv: string[]; name: string; hint: string }[] = [
    { argv: ['ip', '-V'], name: 'ip', hint: 'Install iproute2: apt-get install -y iproute2' },
    { argv: ['nft', '--version'], name: 'nft', hint: 'Install nftables: apt-get install -y nftables' },
    {
      argv: [python, '-I', '-S', '-c', 'import socket'],
      name: python,
      hint: 'Install python3: apt-get install -y python3',
    },
  ];
  await Promise.all(
    tools.map(async (tool) => {
      const result = await runCommand(tool.argv, { timeoutMs: 5000 }).catch((cause: unknown) => {
        throw new PkghuntError('CAPABILITY_MISSING', `Cannot run ${tool.name}: ${String(cause)}`, {
          hint: tool.hint,
          cause,
        });
      });
      if (result.code !== 0) {
        throw new PkghuntError('CAPABILITY_MISSING', `Cannot run ${tool.name}: exit code ${result.code}`, {
          hint: tool.hint,
        });
      }
    }),
  );
}
