import type { Command } from 'commander';
import { type Webhook, webhook } from '../../adapters/alerts/webhooks.ts';
import { cleanupStaleNetns } from '../../adapters/netns/cleanup-stale-netns.ts';
import { cleanupStaleSandboxes } from '../../adapters/sandbox/cleanup-stale-sandboxes.ts';
import { openPostgresStore } from '../../adapters/store/postgres-store.ts';
import type { KeepTraces } from '../../adapters/store/store.ts';
import type { WatchState } from '../../adapters/store/watch-state.ts';
import { openPostgresWatchState } from '../../adapters/store/watch-state-postgres.ts';
import { openSqliteWatchState } from '../../adapters/store/watch-state-sqlite.ts';
import type { TracerChoice } from '../../adapters/tracer/tracer.ts';
import { downloadCount } from '../../app/downloads.ts';
import { isPostgresUrl, openStore } from '../../app/open-store.ts';
import { type WatchEngine, type WatchEvent, type WatchSource, watch } from '../../app/watch.ts';
import { loadConfig } from '../../config.ts';
import type { Ecosystem } from '../../core/ecosystem.ts';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { deriveFeedUrls } from '../../core/feed/feed-urls.ts';
import { createNdjsonReporter } from '../../reporter/ndjson-reporter.ts';
import type { Reporter } from '../../reporter/reporter.ts';
import { EXIT } from '../exit-codes.ts';
import { printError } from '../output.ts';
import { positiveInteger, positiveNumber } from '../parse-flags.ts';
import { readNames } from '../read-names.ts';
import { resolveEcosystemIndex } from '../resolve-ecosystem-index.ts';
import {
  ecosystemOption,
  keepTracesOption,
  parsePhases,
  phasesOption,
  registryOption,
  tracerOption,
} from './analysis-options.ts';

interface WatchFlags {
  ecosystem: Ecosystem;
  indexUrl?: string;
  registry?: string;
  from?: string;
  db?: string;
  interval: string;
  workers: string;
  feedUrl?: string;
  packagesFeedUrl?: string;
  changelogUrl?: string;
  changelog: boolean;
  webhook: string[];
  slackWebhook: string[];
  dashboardUrl?: string;
  healthPort?: string;
  healthHost: string;
  statusInterval: string;
  alertRetry: string;
  duration?: string;
  json?: boolean;
  timeout?: string;
  phases: string;
  maxAttempts: string;
  leaseSeconds?: string;
  retryDelay?: string;
  tracer: TracerChoice;
  keepTraces: KeepTraces;
}

/** `60`, `60s`, `5m`, `1h`, `500ms` as milliseconds. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const n = m
    ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms']
    : Number.NaN;
  if (!Number.isFinite(n) || n <= 0) {
    throw new PkghuntError(
      'USAGE',
      `Cannot use ${flag} ${JSON.stringify(value)}: expected a duration such as 60s, 5m or 1h`,
    );
  }
  return n;
}

/** A release as a user would ask for it: NAME==VERSION, npm:NAME@VERSION. */
function label(event: { ecosystem: Ecosystem; project: string; version: string }): string {
  return event.ecosystem === 'npm'
    ? `npm:${event.project}@${event.version}`
    : `${event.project}==${event.version}`;
}

function describe(event: WatchEvent): string | null {
  switch (event.type) {
    case 'watch-start': {
      const health = event.healthPort !== null ? `; health on port ${event.healthPort}` : '';
      if (event.feeds === null) {
        const what =
          event.watching === null ? 'the npm packages in the store' : `${event.watching} npm packages`;
        return `watch: polling the package documents of ${what} on ${event.registry}${health}`;
      }
      return `watch: polling ${event.feeds.releases}, ${event.feeds.projects}${event.feeds.changelog ? ` and the changelog ${event.feeds.changelog}` : ' (no changelog)'}${health}`;
    }
    case 'feed-polled':
      return event.fresh > 0 || event.invalid > 0
        ? `watch: ${event.source}: ${event.fresh} new of ${event.items}${event.invalid ? `, ${event.invalid} invalid items skipped` : ''}`
        : null;
    case 'feed-error':
      return `watch: ${event.source}: [${event.code}] ${event.message}`;
    case 'feed-gap':
      return `watch: ${event.source}: the window overflowed (nothing seen between ${event.after ?? '?'} and ${event.before ?? '?'}); filled from: ${event.filledBy}`;
    case 'release-queued':
      return `watch: queued ${label(event)} (${event.source})`;
    case 'alert-queued':
      return `watch: ALERT ${event.level} ${label(event)} -> ${event.destinations} webhook(s)`;
    case 'alert-sent':
      return `watch: alert ${label(event)} sent to ${event.destination}`;
    case 'alert-failed':
      return `watch: alert ${label(event)} to ${event.destination} failed (${event.error}); retry in ${Math.round(event.retryInMs / 1000)} s`;
    case 'status':
      return `watch: seen ${event.seen}, queued ${event.queued}, analysed ${event.analysed}, alerts sent ${event.alertsSent} (pending ${event.alertsPending}), median lag ${event.medianLagMs === null ? '-' : `${Math.round(event.medianLagMs / 1000)} s`}`;
    case 'watch-draining':
      return 'watch: stopping: letting the running analyses finish (again to quit at once)';
    case 'watch-stopped':
      return event.fatal ? `watch: stopped: [${event.fatal.code}] ${event.fatal.message}` : 'watch: stopped';
  }
}

function textJobReporter(): Reporter {
  return {
    report(event) {
      if (event.type === 'job-end') {
        process.stderr.write(
          `watch: ${event.project}==${event.version}: ${event.outcome}${event.code ? ` [${event.code}] ${event.reason}` : ''} in ${(event.durationMs / 1000).toFixed(1)} s\n`,
        );
      }
    },
  };
}

function collectWebhooks(flags: WatchFlags, env: { webhooks: string[]; slackWebhooks: string[] }): Webhook[] {
  const hooks = [
    ...flags.webhook.map((u) => webhook('generic', u, '--webhook')),
    ...flags.slackWebhook.map((u) => webhook('slack', u, '--slack-webhook')),
    ...env.webhooks.map((u) => webhook('generic', u, 'PKGHUNT_WEBHOOKS')),
    ...env.slackWebhooks.map((u) => webhook('slack', u, 'PKGHUNT_SLACK_WEBHOOKS')),
  ];
  return [...new Map(hooks.map((h) => [h.id, h])).values()];
}

async function runWatch(flags: WatchFlags): Promise<number> {
  const json = flags.json === true;
  const drain = new AbortController();
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals === 1) drain.abort();
    else abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const write = (event: WatchEvent): void => {
    if (json) process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
    else {
      const line = describe(event);
      if (line !== null) process.stderr.write(`${line}\n`);
    }
  };
  let durationTimer: NodeJS.Timeout | undefined;
  const closers: (() => Promise<void>)[] = [];
  try {
    const config = loadConfig();
    const intervalMs = parseDuration(flags.interval, '--interval');
    const workers = positiveInteger(flags.workers, '--workers') ?? 1;
    const maxAttempts = positiveInteger(flags.maxAttempts, '--max-attempts') ?? 3;
    const timeoutS = positiveNumber(flags.timeout, '--timeout');
    const leaseS = positiveNumber(flags.leaseSeconds, '--lease-seconds');
    const retryS = positiveNumber(flags.retryDelay, '--retry-delay');
    const phases = parsePhases(flags.phases);
    const statusIntervalMs = parseDuration(flags.statusInterval, '--status-interval');
    const alertRetryBaseMs = parseDuration(flags.alertRetry, '--alert-retry');
    const durationMs = flags.duration === undefined ? undefined : parseDuration(flags.duration, '--duration');
    const healthPort =
      flags.healthPort === undefined
        ? undefined
        : /^\d+$/.test(flags.healthPort) && Number(flags.healthPort) < 65536
          ? Number(flags.healthPort)
          : (() => {
              throw new PkghuntError(
                'USAGE',
                `Cannot use --health-port ${JSON.stringify(flags.healthPort)}: expected 0..65535`,
              );
            })();
    const webhooks = collectWebhooks(flags, config.watch);
    const dashboardUrl = flags.dashboardUrl ?? config.watch.dashboardUrl;
    if (dashboardUrl !== null && !/^https?:\/\//.test(dashboardUrl)) {
      throw new PkghuntError(
        'USAGE',
        `Cannot use the dashboard URL ${JSON.stringify(dashboardUrl)}: not an http(s):// URL`,
      );
    }
    const indexUrl = await resolveEcosystemIndex(flags.ecosystem, flags);
    const source = await watchSource(flags, indexUrl);

    const db = flags.db ?? config.dbPath;
    let engine: WatchEngine;
    let state: WatchState;
    if (isPostgresUrl(db)) {
      const store = await openPostgresStore(db);
      closers.push(() => store.close());
      state = await openPostgresWatchState(db);
      engine = { kind: 'postgres', store };
    } else {
      const opened = await openStore(db, config);
      closers.push(() => opened.store.close());
      state = openSqliteWatchState(opened.location);
      // A watcher restarted after a crash or SIGKILL undoes what its predecessor left on this host.
      await cleanupStaleSandboxes({ stateDir: config.stateDir });
      await cleanupStaleNetns();
      engine = {
        kind: 'sqlite',
        store: opened.store,
        maxAttempts,
        pool: {
          config,
          indexUrl,
          ...(flags.ecosystem === 'npm' ? { registry: indexUrl } : {}),
          workers,
          phases,
          ...(timeoutS !== undefined ? { timeoutS } : {}),
          leaseMs: (leaseS ?? 600) * 1000,
          retryBaseMs: (retryS ?? 30) * 1000,
          traceDir: opened.traceDir,
          keepTraces: flags.keepTraces,
          tracer: flags.tracer,
        },
      };
    }
    closers.unshift(() => state.close());
    if (durationMs !== undefined) durationTimer = setTimeout(() => drain.abort(), durationMs);
    const { fatal } = await watch({
      engine,
      state,
      source,
      intervalMs,
      webhooks,
      dashboardUrl,
      alertRetryBaseMs,
      statusIntervalMs,
      // The download count of a flagged release goes into its alert when a provider is configured
      // (see `pkghunt downloads`); without one, downloadCount is null and the alert says unknown.
      downloads: async (project: string) =>
        (await downloadCount(project, { days: 30, config }))?.count ?? null,
      ...(healthPort !== undefined ? { health: { host: flags.healthHost, port: healthPort } } : {}),
      onEvent: write,
      reporter: json ? createNdjsonReporter(process.stdout) : textJobReporter(),
      drain: drain.signal,
      abort: abort.signal,
    });
    if (fatal) return printError(fatal, { json });
    return abort.signal.aborted ? EXIT.INTERRUPTED : EXIT.OK;
  } catch (error) {
    const e = toPkghuntError(error);
    const code = printError(e, { json });
    return e.code === 'FEED_UNSUPPORTED' ? EXIT.USAGE : code;
  } finally {
    clearTimeout(durationTimer);
    for (const close of closers) await close().catch(() => undefined);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** What the watcher polls: PyPI's feeds, or the package documents of the npm watchlist. */
async function watchSource(flags: WatchFlags, indexUrl: string): Promise<WatchSource> {
  if (flags.ecosystem === 'npm') {
    const pypiOnly = [
      [flags.feedUrl, '--feed-url'],
      [flags.packagesFeedUrl, '--packages-feed-url'],
      [flags.changelogUrl, '--changelog-url'],
    ] as const;
    for (const [value, flag] of pypiOnly) {
      if (value !== undefined)
        throw new PkghuntError(
          'USAGE',
          `Cannot use ${flag} with --ecosystem npm: npm registries have no feed`,
          {
            hint: 'npm is watched through its package documents: give the packages with --from FILE.',
          },
        );
    }
    return {
      ecosystem: 'npm',
      registry: indexUrl,
      watchlist: flags.from === undefined ? null : await readNames(flags.from, 'npm'),
    };
  }
  if (flags.from !== undefined) {
    throw new PkghuntError(
      'USAGE',
      'Cannot use --from without --ecosystem npm: PyPI is watched through its feeds',
    );
  }
  return {
    ecosystem: 'pypi',
    indexUrl,
    feeds: deriveFeedUrls(indexUrl, {
      ...(flags.feedUrl !== undefined ? { feedUrl: flags.feedUrl } : {}),
      ...(flags.packagesFeedUrl !== undefined ? { packagesFeedUrl: flags.packagesFeedUrl } : {}),
      ...(flags.changelogUrl !== undefined ? { changelogUrl: flags.changelogUrl } : {}),
      noChangelog: !flags.changelog,
    }),
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerWatch(program: Command, setExit: (code: number) => void): void {
  program
    .command('watch')
    .description('Watch the index for new releases, analyse each once, and alert webhooks on suspicious ones')
    .addOption(ecosystemOption('pypi (its feeds), or npm (package documents of --from FILE)', 'pypi'))
    .option(
      '--index-url <url>',
      "PyPI: package index; default: pip's configured index (feeds derive from it)",
    )
    .addOption(registryOption())
    .option(
      '--from <file>',
      'npm: the packages to watch, one name per line (default: the npm packages in the store, read on every poll)',
    )
    .option(
      '--db <file|url>',
      'SQLite store (analyses run here), or postgres://... (`pkghunt worker`s analyse)',
    )
    .option('--interval <duration>', 'how often the feeds are polled (60s, 5m, ...)', '60s')
    .option('--workers <k>', 'sandboxes at once (SQLite store)', '1')
    .option('--feed-url <url>', 'RSS of new releases; default <index origin>/rss/updates.xml')
    .option('--packages-feed-url <url>', 'RSS of new projects; default <index origin>/rss/packages.xml')
    .option(
      '--changelog-url <url>',
      'XML-RPC endpoint with changelog_since_serial; default <index origin>/pypi',
    )
    .option('--no-changelog', 'rely on the RSS feeds alone (gaps are filled from project pages)')
    .option(
      '--webhook <url>',
      'POST generic JSON alerts here (repeatable; also PKGHUNT_WEBHOOKS)',
      collect,
      [],
    )
    .option(
      '--slack-webhook <url>',
      'POST Slack-compatible alerts here (repeatable; also PKGHUNT_SLACK_WEBHOOKS)',
      collect,
      [],
    )
    .option(
      '--dashboard-url <url>',
      'base URL alerts link to (<url>/package/NAME/VERSION); also PKGHUNT_DASHBOARD_URL',
    )
    .option('--health-port <port>', 'serve GET /healthz on this port (0: any free port); off by default')
    .option('--health-host <host>', 'address of the health endpoint', '127.0.0.1')
    .option('--status-interval <duration>', 'how often the status line is printed', '60s')
    .option('--alert-retry <duration>', 'first retry of a failed alert delivery, doubling up to 1h', '5s')
    .option('--duration <duration>', 'stop (as on SIGTERM) after this long, e.g. 1h for a measured run')
    .option('--json', 'NDJSON events on stdout')
    .option('--timeout <seconds>', 'wall-clock limit per phase (default 300, or PKGHUNT_TIMEOUT)')
    .addOption(phasesOption())
    .option('--max-attempts <n>', 'attempts per release before it ends failed', '3')
    .option(
      '--lease-seconds <s>',
      "how long a running job stays a dead watcher's before it is retried (default 600)",
    )
    .option('--retry-delay <s>', 'delay before the first retry of a failed analysis, doubling (default 30)')
    .addOption(tracerOption('strace'))
    .addOption(keepTracesOption())
    .addHelpText(
      'after',
      `
SIGTERM or Ctrl-C stops polling and lets the running analyses finish; a second one destroys them.
Exit codes: 0 stopped cleanly, 1 failure, 2 bad usage (also: a file:// index without --feed-url),
130 stopped at once (second signal).

Examples:
  pkghunt watch --workers 2 --webhook https://alerts.internal/pkghunt --dashboard-url http://127.0.0.1:8080
  pkghunt watch --index-url file://$PWD/.cache/demo-index/simple --feed-url http://127.0.0.1:9000/rss/updates.xml \\
    --packages-feed-url http://127.0.0.1:9000/rss/packages.xml --no-changelog
  pkghunt watch --ecosystem npm --from watchlist.txt --interval 5m --webhook https://alerts.internal/pkghunt

npm registries offer no feed of new releases: with --ecosystem npm every poll GETs the document
of each watched package (one request each; meant for watchlists, not the whole registry). The
first poll of a package queues its latest version; later polls every version not seen before.`,
    )
    .action(async (flags: WatchFlags) => {
      setExit(await runWatch(flags));
    });
}
