import { join } from 'node:path';
import { z } from 'zod';
import { createNetworkSandbox } from '../src/adapters/netns/network-sandbox.ts';
import { createSandbox, newCanaryToken } from '../src/adapters/sandbox/sandbox.ts';
import { noTracer } from '../src/adapters/tracer/tracer.ts';
import type { Config } from '../src/config.ts';

export const LifecycleSample = z.object({
  ok: z.boolean(),
  netnsMs: z.number(),
  sandboxMs: z.number(),
  execMs: z.number(),
  /** sandbox.destroy() and network.close() run side by side, as analyze() does. */
  teardownMs: z.number(),
  totalMs: z.number(),
  note: z.string().nullable(),
});
export type LifecycleSample = z.infer<typeof LifecycleSample>;

/**
 * One empty sandbox life: the network namespace (netsvc, nftables), the sandbox (uid, tmpfs run
 * dir, cgroups), `/bin/true` in it, then tear-down. What every analysis pays before pip starts.
 */
export async function timeSandboxLifecycle(config: Config, id: string): Promise<LifecycleSample> {
  const t0 = performance.now();
  const network = await createNetworkSandbox({
    id,
    // netsvc connects to the proxy socket only when pip does; none is needed here.
    indexSocketPath: join(config.stateDir, 'sockets', `${id}.sock`),
  });
  const t1 = performance.now();
  let sandbox: Awaited<ReturnType<typeof createSandbox>> | null = null;
  try {
    sandbox = await createSandbox({
      id,
      limits: config.limits,
      canaryToken: newCanaryToken(),
      uidBase: config.uidBase,
      stateDir: config.stateDir,
    });
    const t2 = performance.now();
    const run = await sandbox.exec(['/bin/true'], {
      tracer: noTracer,
      netns: network.name,
      timeoutMs: 30_000,
      traceFile: '/dev/null',
    });
    const t3 = performance.now();
    const closing = [sandbox.destroy(), network.close()];
    sandbox = null;
    await Promise.all(closing);
    const t4 = performance.now();
    const ok = run.exitCode === 0;
    return {
      ok,
      netnsMs: t1 - t0,
      sandboxMs: t2 - t1,
      execMs: t3 - t2,
      teardownMs: t4 - t3,
      totalMs: t4 - t0,
      note: ok ? null : `exit ${run.exitCode} ${run.spawnError ?? run.stderrTail.slice(-200)}`,
    };
  } finally {
    await Promise.allSettled([sandbox?.destroy(), network.close()]);
  }
}
