/**
 * The bare side of the hunt throughput benchmark, run as its own process (so that its CPU time is
 * accounted like the hunt's): `bareInstall` of each package, `--concurrency K` at once, pulling
 * from one shared queue like hunt's workers. Prints one JSON line per package on stdout.
 * CLI: node --import tsx bench/hunt-bare-batch.ts --index-url URL [--concurrency 1] [--like-runner] PKG...
 * Only for packages safe on the host (bench/bench-packages.ts): there is no sandbox here.
 */
import { Command } from 'commander';
import { bareInstall } from './bare-install.ts';

async function main(): Promise<void> {
  const program = new Command('hunt-bare-batch')
    .requiredOption('--index-url <url>', 'the index pip installs from')
    .option('--concurrency <k>', 'installs at once', '1')
    .option('--like-runner', "start pip as the sandbox's runner does (bareInstall's likeRunner)")
    .argument('<packages...>')
    .parse();
  const opts = program.opts<{ indexUrl: string; concurrency: string; likeRunner?: boolean }>();
  const queue = [...program.processedArgs[0]] as string[];
  const k = Number.parseInt(opts.concurrency, 10);
  let failed = 0;
  async function lane(): Promise<void> {
    for (let pkg = queue.shift(); pkg !== undefined; pkg = queue.shift()) {
      const r = await bareInstall(pkg, { indexUrl: opts.indexUrl, likeRunner: opts.likeRunner === true });
      if (!r.ok) failed++;
      process.stdout.write(
        `${JSON.stringify({ pkg, ok: r.ok, wallMs: r.wallMs, note: r.ok ? null : r.stderrTail.slice(-300) })}\n`,
      );
    }
  }
  await Promise.all(Array.from({ length: k }, () => lane()));
  process.exitCode = failed === 0 ? 0 : 1;
}

await main();
