import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { PROJECT_ROOT } from '../../config.ts';
import { PkghuntError } from '../../core/errors.ts';
import { buildNftRuleset, type NetServicePorts } from '../../core/net/build-nft-ruleset.ts';
import { CaptureEvent } from '../../core/net/capture-event.ts';
import { defaultPython } from './default-python.ts';

export type { CaptureEvent } from '../../core/net/capture-event.ts';

import { runCommand } from './run-command.ts';

const NETSVC_PATH = join(PROJECT_ROOT, 'sandbox', 'netsvc.py');
/**
 * netsvc keeps only what answering a DNS query sent straight to a public resolver needs, each
 * time, from that resolver's address: CAP_NET_RAW for IP_TRANSPARENT and CAP_NET_BIND_SERVICE to
 * bind its port 53 (SO_ORIGINAL_DST needs none). It can never gain more (no_new_privs).
 * It stays uid 0 without capabilities: it must connect to the index proxy's socket in a
 * root-only directory (docs/ARCHITECTURE.md, "netsvc's privileges").
 */
export const NETSVC_PRIVILEGES = [
  'setpriv',
  '--bounding-set',
  '-all,+net_raw,+net_bind_service',
  '--inh-caps',
  '-all',
  '--no-new-privs',
  '--',
] as const;
const DEFAULT_PORTS: NetServicePorts = { dnsPort: 10053, tcpPort: 10080, udpPort: 10081, indexPort: 10082 };
const READY_TIMEOUT_MS = 5000;
/** netsvc answers a sync within 2 s (its own bound); past this, events are taken as they are. */
const SETTLE_TIMEOUT_MS = 2500;
/** netsvc's answer to `sync ID` on its stdin: every event before it is out. */
const SyncedLine = z.object({ type: z.literal('synced'), id: z.number().int() });
const STOP_TIMEOUT_MS = 3000;
const STDERR_KEEP = 4096;

export interface NetworkSandbox {
  /** Network namespace name: start the sandbox with `ip netns exec <name> ...`. */
  readonly name: string;
  /** pip's index inside the namespace: http://127.0.0.1:<indexPort>/simple. */
  readonly indexPort: number;
  /** Resolver for the sandbox's resolv.conf (port 53; every udp/tcp 53 is caught anyway). */
  readonly dnsAddress: '127.0.0.1';
  /** Every capture event parsed so far (the `ready` event first). */
  events(): CaptureEvent[];
  /**
   * Resolves once netsvc has recorded everything that reached it so far (no datagram or connection
   * waiting, no handler running): call after a phase's processes are dead to split events by phase.
   */
  settle(): Promise<void>;
  /** Lines netsvc wrote that did not parse (CAPTURE_PARSE errors); counted, never fatal. */
  parseErrors(): PkghuntError[];
  /** Stops netsvc, collects its last events and deletes the namespace. Safe to call twice. */
  close(): Promise<CaptureEvent[]>;
  /** Whether netsvc still runs (a namespace made ahead of time is checked before it is used). */
  alive(): boolean;
  /** false: netsvc does not keep the process alive (a spare waiting for its analysis). */
  keepProcessAlive(keep: boolean): void;
  /** At process exit, when nothing async can run: kills netsvc, deletes the namespace. */
  abandonSync(): void;
}

let _counter = 0;

/**
 * Creates a network namespace from which nothing can leave: every address is routed to lo and
 * nftables steers all TCP/UDP to sandbox/netsvc.py (fake DNS, sinkhole, index forwarder), which runs
 * in the namespace but outside the sandbox's pid and mount namespaces.
 */
export async function createNetworkSandbox(options: {
  id: string;
  indexSocketPath: string;
  python?: string;
}): Promise<NetworkSandbox> {
  const name = _netnsName(options.id);
  const ports = DEFAULT_PORTS;
  await _run(['ip', 'netns', 'add', name], { what: `create network namespace ${name}` });
  let service: _NetService | null = null;
  try {
    await _run(['ip', '-n', name, '-batch', '-'], {
      what: `configure loopback in ${name}`,
      input: 'link set lo up\nroute add local default dev lo\nroute add local ::/0 dev lo\n',
    });
    service = _startNetService(name, {
      ports,
      indexSocketPath: options.indexSocketPath,
      python: options.python,
    });
    await Promise.all([
      _run(['ip', 'netns', 'exec', name, 'nft', '-f', '-'], {
        what: `load nftables rules in ${name}`,
        input: buildNftRuleset(ports),
      }),
      service.ready,
    ]);
  } catch (error) {
    await service?.stop();
    await runCommand(['ip', 'netns', 'delete', name]).catch(() => null);
    throw error;
  }
  const running = service;
  let closing: Promise<CaptureEvent[]> | null = null;
  return {
    name,
    indexPort: ports.indexPort,
    dnsAddress: '127.0.0.1',
    events: () => [...running.events],
    settle: () => running.settle(),
    parseErrors: () => [...running.parseErrors],
    alive: () => running.alive(),
    keepProcessAlive: (keep) => running.keepProcessAlive(keep),
    abandonSync() {
      if (closing !== null) return;
      running.killSync();
      try {
        execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore', timeout: 5000 });
      } catch {
        // cleanupStaleNetns removes it at the next hunt.
      }
    },
    close() {
      closing ??= (async () => {
        await running.stop();
        const result = await runCommand(['ip', 'netns', 'delete', name]).catch((cause: unknown) => ({
          code: null,
          stdout: '',
          stderr: String(cause),
        }));
        if (result.code !== 0) {
          throw new PkghuntError('SANDBOX_TEARDOWN_FAILED', `Cannot delete network namespace ${name}`, {
            hint: `Remove it with: ip netns delete ${name} (${result.stderr.trim()})`,
          });
        }
        return [...running.events];
      })();
      return closing;
    },
  };
}

interface _NetService {
  events: CaptureEvent[];
  parseErrors: PkghuntError[];
  ready: Promise<void>;
  settle(): Promise<void>;
  stop(): Promise<void>;
  alive(): boolean;
  keepProcessAlive(keep: boolean): void;
  killSync(): void;
}

function _startNetService(
  name: string,
  options: { ports: NetServicePorts; indexSocketPath: string; python: string | undefined },
): _NetService {
  const config = JSON.stringify({
    dns_port: options.ports.dnsPort,
    tcp_port: options.ports.tcpPort,
    udp_port: options.ports.udpPort,
    index_port: options.ports.indexPort,
    index_socket: options.indexSocketPath,
  });
  const python = options.python ?? defaultPython();
  // `ip netns exec` and setpriv exec in place (no fork), so child.pid is netsvc's own pid.
  const child: ChildProcessWithoutNullStreams = spawn(
    'ip',
    ['netns', 'exec', name, ...NETSVC_PRIVILEGES, python, '-I', '-S', NETSVC_PATH, '--config', config],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const events: CaptureEvent[] = [];
  const parseErrors: PkghuntError[] = [];
  const syncs = new Map<number, () => void>();
  let syncCounter = 0;
  let stderr = '';
  let lineNumber = 0;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  child.stdin.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const fail = (message: string, cause?: unknown) =>
      reject(
        new PkghuntError('SANDBOX_SETUP_FAILED', message, {
          hint: `netsvc.py stderr: ${stderr.trim().slice(-500) || '(empty)'}`,
          cause,
        }),
      );
    const timer = setTimeout(
      () => fail(`Cannot start network services in ${name}: no ready event`),
      READY_TIMEOUT_MS,
    );
    child.on('error', (cause) => {
      clearTimeout(timer);
      fail(`Cannot start network services in ${name}: ${cause.message}`, cause);
    });
    void exited.then(() => {
      clearTimeout(timer);
      fail(`Cannot start network services in ${name}: netsvc.py exited (code ${child.exitCode})`);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      lineNumber += 1;
      if (line.startsWith('{"type":"synced"')) {
        const synced = SyncedLine.safeParse(_json(line));
        if (synced.success) {
          syncs.get(synced.data.id)?.();
          syncs.delete(synced.data.id);
          return;
        }
      }
      const event = _parseLine(line, lineNumber);
      if (event instanceof PkghuntError) {
        parseErrors.push(event);
        return;
      }
      events.push(event);
      if (event.type === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  // The rejection is observed by the caller through `ready`; keep it from surfacing as unhandled later.
  ready.catch(() => {});
  return {
    events,
    parseErrors,
    ready,
    settle() {
      if (child.exitCode !== null || child.signalCode !== null || child.stdin.destroyed)
        return Promise.resolve();
      syncCounter += 1;
      const id = syncCounter;
      return new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          syncs.delete(id);
          resolve();
        };
        const timer = setTimeout(done, SETTLE_TIMEOUT_MS);
        syncs.set(id, done);
        void exited.then(done);
        child.stdin.write(`sync ${id}\n`);
      });
    },
    alive: () => child.exitCode === null && child.signalCode === null && processRuns(child.pid),
    keepProcessAlive(keep) {
      if (keep) child.ref();
      else child.unref();
      // The pipes are sockets: each holds the event loop too.
      for (const stream of [child.stdin, child.stdout, child.stderr]) {
        const socket = stream as unknown as { ref?: () => void; unref?: () => void };
        if (keep) socket.ref?.();
        else socket.unref?.();
      }
    },
    killSync() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(killer);
      } else {
        await exited;
      }
    },
  };
}

function _json(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

function _parseLine(line: string, lineNumber: number): CaptureEvent | PkghuntError {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (cause) {
    return new PkghuntError('CAPTURE_PARSE', `Cannot parse capture line ${lineNumber}: not JSON`, { cause });
  }
  const parsed = CaptureEvent.safeParse(json);
  if (!parsed.success) {
    return new PkghuntError(
      'CAPTURE_PARSE',
      `Cannot parse capture line ${lineNumber}: ${parsed.error.message}`,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

async function _run(argv: string[], options: { what: string; input?: string }): Promise<void> {
  const result = await runCommand(argv, options.input === undefined ? {} : { input: options.input }).catch(
    (cause: unknown) => {
      throw new PkghuntError('SANDBOX_SETUP_FAILED', `Cannot ${options.what}: ${String(cause)}`, {
        hint: 'Check that iproute2 and nftables are installed (pkghunt doctor).',
        cause,
      });
    },
  );
  if (result.code !== 0) {
    throw new PkghuntError('SANDBOX_SETUP_FAILED', `Cannot ${options.what}: ${result.stderr.trim()}`, {
      hint: 'Network namespaces and nftables need root; leftovers are named pkghunt-*.',
    });
  }
}

/** pkghunt-<pid>-<id>: the pid lets cleanupStaleNetns tell live namespaces from leftovers. */
function _netnsName(id: string): string {
  _counter += 1;
  const safe = id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32) || String(_counter);
  return `pkghunt-${process.pid}-${safe}`;
}

/**
 * Whether a child process still runs, asked of the kernel: node learns of a child's death only when
 * its event loop reaps it, and a killed process is a zombie until then.
 */
function processRuns(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
