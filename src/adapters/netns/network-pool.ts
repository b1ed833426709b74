import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createNetworkSandbox, type NetworkSandbox } from './network-sandbox.ts';

/** A network sandbox and the socket path its netsvc forwards pip's index traffic to. */
export interface NetworkLease {
  network: NetworkSandbox;
  /** Where the analysis's index proxy must listen. */
  indexSocketPath: string;
}

export interface NetworkPool {
  /**
   * A fresh network sandbox, used by one analysis only: the spare made ahead of time, or a new one.
   * `prepareNext`: another analysis will follow (a hunt's worker), so make its namespace now.
   */
  take(options?: { prepareNext?: boolean }): Promise<NetworkLease>;
  /** Closes the spare, if any. */
  close(): Promise<void>;
}

/** A spare not taken within this time is closed (a hunt takes the next one within seconds). */
const IDLE_MS = 30_000;

/**
 * Makes the next analysis's network namespace while the current one runs (namespace, loopback,
 * nftables, netsvc: ~50-150 ms each time, otherwise on every analysis's critical path). Each one
 * is still used by one analysis only and closed by it; nothing of one package reaches another.
 * A spare is made only when the caller says another analysis follows (hunt's job pool), never for
 * a single `analyze`. It does not keep the process alive, is closed after 30 s untaken, is deleted
 * synchronously at exit, and if the process is killed outright, cleanupStaleNetns removes it (its
 * name carries the dead pid).
 */
export function createNetworkPool(options: {
  socketDir: string;
  create?: (options: { id: string; indexSocketPath: string }) => Promise<NetworkSandbox>;
}): NetworkPool {
  const create = options.create ?? createNetworkSandbox;
  /** The spare: one at most, being made or made. */
  let spare: Promise<NetworkLease> | null = null;
  /** Spares made and not taken: what the exit hook deletes. */
  const untaken = new Set<NetworkLease>();
  let idle: NodeJS.Timeout | null = null;
  let hooked = false;

  function abandonAtExit(): void {
    for (const lease of untaken) lease.network.abandonSync();
    untaken.clear();
  }

  async function make(): Promise<NetworkLease> {
    const id = `net-${randomBytes(4).toString('hex')}`;
    const indexSocketPath = join(options.socketDir, `${id}.sock`);
    return { network: await create({ id, indexSocketPath }), indexSocketPath };
  }

  function clearIdle(): void {
    if (idle !== null) clearTimeout(idle);
    idle = null;
  }

  function makeSpare(): void {
    if (spare !== null) return;
    if (!hooked) {
      hooked = true;
      process.on('exit', abandonAtExit);
    }
    // While it is being made, its commands keep the process alive; once made, it does not.
    const next = make().then((lease) => {
      lease.network.keepProcessAlive(false);
      untaken.add(lease);
      return lease;
    });
    next.catch(() => undefined);
    spare = next;
    clearIdle();
    idle = setTimeout(() => {
      void closeSpare();
    }, IDLE_MS);
    idle.unref();
  }

  async function closeSpare(): Promise<void> {
    clearIdle();
    const waiting = spare;
    spare = null;
    const lease = await waiting?.catch(() => null);
    if (lease === null || lease === undefined) return;
    untaken.delete(lease);
    await lease.network.close().catch(() => undefined);
  }

  return {
    async take(takeOptions = {}) {
      const waiting = spare;
      spare = null;
      clearIdle();
      let lease = waiting === null ? null : await waiting.catch(() => null);
      if (lease !== null) untaken.delete(lease);
      if (lease !== null && !lease.network.alive()) {
        await lease.network.close().catch(() => undefined);
        lease = null;
      }
      lease ??= await make();
      lease.network.keepProcessAlive(true);
      if (takeOptions.prepareNext === true) makeSpare();
      return lease;
    },
    close: closeSpare,
  };
}
