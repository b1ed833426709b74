import { sendAlert, type Webhook } from '../adapters/alerts/webhooks.ts';
import { fetchChangelogSince, fetchLastSerial, fetchRss } from '../adapters/feed/feed-client.ts';
import { startHealthServer } from '../adapters/http/health-server.ts';
import { createLimiter } from '../adapters/registry/limiter.ts';
import { fetchPackument } from '../adapters/registry/npm-registry.ts';
import type { PostgresStore } from '../adapters/store/postgres-store.ts';
import type { Store } from '../adapters/store/store.ts';
import type { WatchCounts, WatchState } from '../adapters/store/watch-state.ts';
import type { Ecosystem } from '../core/ecosystem.ts';
import { type PkghuntError, toPkghuntError } from '../core/errors.ts';
import { buildAlert } from '../core/feed/alert.ts';
import { releasesFromChangelog } from '../core/feed/changelog.ts';
import { SeenRelease, seenKey } from '../core/feed/feed-item.ts';
import { EMPTY_POSITION, type FeedPosition, planFeedPoll } from '../core/feed/feed-position.ts';
import type { FeedUrls } from '../core/feed/feed-urls.ts';
import { outboxRetryDelay } from '../core/feed/outbox-backoff.ts';
import { type PackumentVersion, planPackumentPoll } from '../core/feed/packument-position.ts';
import { npmReleases } from '../core/npm/npm-releases.ts';
import type { Reporter } from '../reporter/reporter.ts';
import { type JobPoolOptions, runJobPool } from './job-pool.ts';
import { scheduleProject } from './schedule-project.ts';

/** What the watcher tells the outside world (NDJSON with --json, log lines otherwise). */
export type WatchEvent =
  | {
      type: 'watch-start';
      ecosystem: Ecosystem;
      /** PyPI: the feeds polled; null for npm. */
      feeds: FeedUrls | null;
      /** npm: the registry whose package documents are polled, and how many packages are watched. */
      registry: string | null;
      watching: number | null;
      engine: 'sqlite' | 'postgres';
      workers: number;
      healthPort: number | null;
    }
  | { type: 'feed-polled'; source: string; items: number; fresh: number; invalid: number }
  | { type: 'feed-error'; source: string; code: string; message: string }
  | {
      type: 'feed-gap';
      source: string;
      after: string | null;
      before: string | null;
      filledBy: 'changelog' | 'project-pages' | 'none';
    }
  | {
      type: 'release-queued';
      ecosystem: Ecosystem;
      project: string;
      version: string;
      source: SeenRelease['source'];
      published: string | null;
    }
  | {
      type: 'alert-queued';
      ecosystem: Ecosystem;
      project: string;
      version: string;
      level: string;
      destinations: number;
    }
  | {
      type: 'alert-sent';
      ecosystem: Ecosystem;
      project: string;
      version: string;
      level: string;
      destination: string;
      attempts: number;
    }
  | {
      type: 'alert-failed';
      ecosystem: Ecosystem;
      project: string;
      version: string;
      level: string;
      destination: string;
      attempts: number;
      error: string;
      retryInMs: number;
    }
  | ({ type: 'status'; queued: number; lastPollAt: string | null } & WatchCounts)
  | { type: 'watch-draining' }
  | { type: 'watch-stopped'; fatal: { code: string; message: string } | null };

export type WatchEngine =
  | {
      kind: 'sqlite';
      store: Store;
      /** hunt's worker pool, minus what watch sets itself. */
      pool: Omit<JobPoolOptions, 'signal' | 'drain' | 'doneWhenIdle' | 'onFatal' | 'reporter'>;
      maxAttempts: number;
    }
  /** Analyses are `pkghunt worker`s' job: the watcher enqueues to pg-boss and alerts on stored verdicts. */
  | { kind: 'postgres'; store: PostgresStore };

/**
 * What is watched: PyPI's feeds (RSS of releases and of new projects, the XML-RPC changelog), or
 * npm package documents: each watched package's `time` lists every version with its publication
 * time (the registry has no feed of new releases; see README, "npm").
 */
export type WatchSource =
  | { ecosystem: 'pypi'; indexUrl: string; feeds: FeedUrls }
  | {
      ecosystem: 'npm';
      /** The registry URL or directory, resolved. */
      registry: string;
      /** The packages watched (`--from`); null: the npm projects in the store, read on every poll. */
      watchlist: readonly string[] | null;
      /** Package documents fetched at once (default 4). */
      concurrency?: number;
    };

export interface WatchOptions {
  engine: WatchEngine;
  state: WatchState;
  source: WatchSource;
  intervalMs: number;
  webhooks: readonly Webhook[];
  dashboardUrl: string | null;
  /** Download count of a project when a provider knows it (else the alert says null). */
  downloads?: (project: string) => Promise<number | null>;
  /** First retry of a failed delivery (default 5 s), doubling up to an hour. */
  alertRetryBaseMs?: number;
  statusIntervalMs?: number;
  health?: { host: string; port: number };
  onEvent?: (event: WatchEvent) => void;
  /** Job events of the SQLite pool (job-start, job-end). */
  reporter?: Reporter;
  /** Aborting stops polling and taking jobs; running analyses finish, then watch returns. */
  drain: AbortSignal;
  /** Aborting destroys the running sandboxes at once (their jobs go back to the queue). */
  abort: AbortSignal;
  /** Polling tick for alerts and deliveries. */
  tickMs?: number;
}

function sleep(ms: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    }
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}

/**
 * Watches the index for new releases until `drain` aborts: polls the changelog (by serial, when
 * there is one) and the RSS feeds every `intervalMs`, queues each new (project, version) once
 * for the same workers as `hunt` (SQLite: in this process; PostgreSQL: `worker` processes),
 * turns stored suspicious/malicious verdicts into outbox rows and delivers them to the webhooks.
 *
 * Crash safety: a poll enqueues (idempotent) and records what it saw BEFORE it stores the new
 * feed positions, so a crash repeats at most an idempotent enqueue; alerts come from stored
 * results, not from the workers, so a crash between the result and the alert loses nothing.
 */
export async function watch(options: WatchOptions): Promise<{ fatal: PkghuntError | null }> {
  const emit = options.onEvent ?? (() => {});
  const { state, source, engine } = options;
  const drainController = new AbortController();
  const onDrain = (): void => drainController.abort();
  options.drain.addEventListener('abort', onDrain, { once: true });
  if (options.drain.aborted) drainController.abort();
  const drain = drainController.signal;
  const waits = [drain, options.abort];
  const failure: { fatal: PkghuntError | null } = { fatal: null };
  let lastPollAt: string | null = null;
  let lastPollOk = Date.now();
  const hooks = new Map(options.webhooks.map((h) => [h.id, h]));

  async function enqueue(releases: readonly SeenRelease[]): Promise<void> {
    if (releases.length === 0) return;
    if (engine.kind === 'sqlite') {
      await engine.store.enqueue(
        releases.map((r) => ({ ecosystem: r.ecosystem ?? 'pypi', project: r.name, version: r.version })),
        { maxAttempts: engine.maxAttempts },
      );
    } else {
      await engine.store.enqueue(
        releases.map((r) => ({
          name: r.name,
          version: r.version,
          ...(r.ecosystem ? { ecosystem: r.ecosystem } : {}),
        })),
      );
    }
  }

  async function queued(): Promise<number> {
    const c = await engine.store.jobCounts();
    return c.pending + c.running;
  }

  /** The versions of a project to analyse, read from its page (new projects, gap fill). */
  async function fromProjectPage(
    indexUrl: string,
    project: string,
    how: SeenRelease['source'],
    since?: string,
  ): Promise<SeenRelease[]> {
    const result = await scheduleProject(engine.store, project, {
      indexUrl,
      ...(since !== undefined ? { since, allVersions: true } : {}),
    });
    return result.versions.map((version) => ({ name: project, version, published: null, source: how }));
  }

  function feedError(source: string, error: unknown): void {
    const e = toPkghuntError(error);
    emit({ type: 'feed-error', source, code: e.code, message: e.message });
  }

  /** Enqueues what a poll found (idempotent), records it as seen, THEN stores the positions. */
  async function commitPoll(candidates: readonly SeenRelease[], saves: readonly [string, FeedPosition][]) {
    const unique = new Map<string, SeenRelease>();
    for (const c of candidates) if (!unique.has(seenKey(c))) unique.set(seenKey(c), c);
    const releases = [...unique.values()];
    await enqueue(releases);
    for (const r of await state.recordSeen(releases)) {
      emit({
        type: 'release-queued',
        ecosystem: r.ecosystem ?? 'pypi',
        project: r.name,
        version: r.version,
        source: r.source,
        published: r.published,
      });
    }
    for (const [where, position] of saves) await state.savePosition(where, position);
    lastPollAt = new Date().toISOString();
  }

  /**
   * npm: one GET of each watched package's document; a version not seen before (by the stored
   * position of that package) is new. A package polled for the first time gives its `latest`
   * only; one the registry does not have yet gives every version once it appears.
   */
  async function pollNpm(npm: Extract<WatchSource, { ecosystem: 'npm' }>): Promise<void> {
    const names = npm.watchlist ?? (await engine.store.selectProjects({ ecosystem: 'npm' }));
    const candidates: SeenRelease[] = [];
    const saves: [string, FeedPosition][] = [];
    const limit = createLimiter(npm.concurrency ?? 4);
    let polled = 0;
    let invalid = 0;
    await Promise.all(
      names.map((name) =>
        limit(async () => {
          if (drain.aborted) return;
          const where = `npm-packument:${name}@${npm.registry}`;
          let versions: PackumentVersion[] | null = null;
          let latest: string | null = null;
          try {
            const { packument } = await fetchPackument(npm.registry, name, { retries: 2, timeoutMs: 30_000 });
            versions = npmReleases(packument);
            latest = packument['dist-tags'].latest ?? null;
          } catch (error) {
            if (toPkghuntError(error).code !== 'PACKAGE_NOT_FOUND') {
              feedError(where, error);
              return; // polled again next time: its position is not saved
            }
          }
          polled++;
          const position = await state.getPosition(where);
          const plan = planPackumentPoll(position, versions, { latest });
          for (const v of plan.fresh) {
            const seen = SeenRelease.safeParse({
              name,
              version: v.version,
              published: v.published,
              source: 'npm-packument',
              ecosystem: 'npm',
            });
            if (seen.success) candidates.push(seen.data);
            else invalid++;
          }
          if (position === null || JSON.stringify(position) !== JSON.stringify(plan.next))
            saves.push([where, plan.next]);
        }),
      ),
    );
    emit({
      type: 'feed-polled',
      source: `npm-packuments:${npm.registry}`,
      items: names.length,
      fresh: candidates.length,
      invalid,
    });
    await commitPoll(candidates, saves);
    if (polled > 0 || names.length === 0) lastPollOk = Date.now();
  }

  async function pollOnce(): Promise<void> {
    if (source.ecosystem === 'npm') {
      await pollNpm(source);
      return;
    }
    const { feeds, indexUrl } = source;
    const candidates: SeenRelease[] = [];
    const saves: [string, FeedPosition][] = [];
    let changelogOk = false;
    let anyOk = false;

    if (feeds.changelog !== null) {
      const changelogSource = `changelog:${feeds.changelog}`;
      try {
        const position = (await state.getPosition(changelogSource)) ?? EMPTY_POSITION;
        if (position.serial === null) {
          // The first start begins at the current serial; the RSS windows give the recent releases.
          saves.push([
            changelogSource,
            { ...position, serial: await fetchLastSerial(feeds.changelog, { signal: drain }) },
          ]);
        } else {
          const events = await fetchChangelogSince(feeds.changelog, position.serial, { signal: drain });
          const releases = releasesFromChangelog(events);
          for (const r of releases)
            candidates.push({
              name: r.name,
              version: r.version,
              published: r.published,
              source: 'changelog',
            });
          const serial = events.reduce((max, e) => Math.max(max, e.serial), position.serial);
          saves.push([changelogSource, { ...position, serial }]);
          emit({
            type: 'feed-polled',
            source: changelogSource,
            items: events.length,
            fresh: releases.length,
            invalid: 0,
          });
        }
        changelogOk = true;
        anyOk = true;
      } catch (error) {
        feedError(changelogSource, error);
      }
    }

    /**
     * One RSS feed: fetch, plan against the stored position, report; `take` turns the fresh items
     * (and a gap) into candidates and says whether the position may advance (false: polled again).
     */
    const pollRss = async (
      kind: 'releases' | 'projects',
      take: (
        feed: Awaited<ReturnType<typeof fetchRss>>,
        plan: ReturnType<typeof planFeedPoll>,
      ) => Promise<boolean>,
      gapFilledBy: 'changelog' | 'project-pages' | 'none',
    ): Promise<void> => {
      const source = `rss-${kind}:${feeds[kind]}`;
      try {
        const feed = await fetchRss(feeds[kind], kind, { signal: drain });
        const plan = planFeedPoll((await state.getPosition(source)) ?? EMPTY_POSITION, feed.items);
        emit({
          type: 'feed-polled',
          source,
          items: feed.items.length,
          fresh: plan.fresh.length,
          invalid: feed.invalid,
        });
        if (plan.gap !== null) emit({ type: 'feed-gap', source, ...plan.gap, filledBy: gapFilledBy });
        if (await take(feed, plan)) saves.push([source, plan.next]);
        anyOk = true;
      } catch (error) {
        feedError(source, error);
      }
    };

    await pollRss(
      'releases',
      async (feed, plan) => {
        for (const item of plan.fresh) {
          if (item.version !== null)
            candidates.push({
              name: item.name,
              version: item.version,
              published: item.published,
              source: 'rss',
            });
        }
        if (plan.gap === null || changelogOk) return true;
        // No changelog: read the pages of the projects in the window for releases since the gap began.
        const since = plan.gap.after ?? undefined;
        let complete = true;
        for (const project of new Set(feed.items.map((i) => i.name))) {
          try {
            candidates.push(...(await fromProjectPage(indexUrl, project, 'project-page', since)));
          } catch (error) {
            feedError(`project-page:${project}`, error);
            complete = false;
          }
        }
        return complete;
      },
      changelogOk ? 'changelog' : 'project-pages',
    );

    await pollRss(
      'projects',
      async (_feed, plan) => {
        let complete = true;
        for (const item of plan.fresh) {
          try {
            candidates.push(...(await fromProjectPage(indexUrl, item.name, 'new-project')));
          } catch (error) {
            feedError(`project-page:${item.name}`, error);
            complete = false; // polled again next time: its position is not saved
          }
        }
        return complete;
      },
      changelogOk ? 'changelog' : 'none',
    );

    await commitPoll(candidates, saves);
    if (anyOk) lastPollOk = Date.now();
  }

  async function scanAlerts(): Promise<void> {
    for (;;) {
      const rows = await state.unscanned(50);
      if (rows.length === 0) return;
      for (const row of rows) {
        const flagged = row.record.verdict !== undefined && row.record.verdict.level !== 'clean';
        // The download providers count PyPI's downloads only.
        const downloads =
          flagged && row.ecosystem === 'pypi' && options.downloads
            ? await options.downloads(row.project).catch(() => null)
            : null;
        const alert = buildAlert(row.record, {
          project: row.project,
          version: row.version,
          ecosystem: row.ecosystem,
          dashboardUrl: options.dashboardUrl,
          downloads,
        });
        const added = await state.addAlerts(
          row,
          alert === null ? [] : options.webhooks.map((h) => ({ alert, destination: h.id })),
        );
        if (alert !== null) {
          emit({
            type: 'alert-queued',
            ecosystem: row.ecosystem,
            project: alert.project,
            version: alert.version,
            level: alert.level,
            destinations: added,
          });
        }
      }
    }
  }

  async function deliver(): Promise<void> {
    for (;;) {
      const due = await state.claimDue([...hooks.keys()], { leaseMs: 60_000, limit: 20 });
      if (due.length === 0) return;
      for (const row of due) {
        const hook = hooks.get(row.destination);
        if (hook === undefined) continue;
        const result = await sendAlert(row.alert, hook);
        const { project, version, level } = row.alert;
        const ecosystem = row.alert.ecosystem ?? 'pypi';
        if (result.ok) {
          await state.markSent(row.id);
          emit({
            type: 'alert-sent',
            ecosystem,
            project,
            version,
            level,
            destination: hook.id,
            attempts: row.attempts + 1,
          });
        } else {
          const retryInMs = outboxRetryDelay(row.attempts + 1, {
            jitter: Math.random(),
            ...(options.alertRetryBaseMs !== undefined ? { baseMs: options.alertRetryBaseMs } : {}),
          });
          await state.markFailed(row.id, { error: result.error, retryAfterMs: retryInMs });
          emit({
            type: 'alert-failed',
            ecosystem,
            project,
            version,
            level,
            destination: hook.id,
            attempts: row.attempts + 1,
            error: result.error,
            retryInMs,
          });
        }
        if (options.abort.aborted) return;
      }
    }
  }

  async function status(): Promise<
    { type: 'status'; queued: number; lastPollAt: string | null } & WatchCounts
  > {
    return { type: 'status', queued: await queued(), lastPollAt, ...(await state.counts()) };
  }

  const health = options.health
    ? await startHealthServer({
        ...options.health,
        status: async () => {
          const s = await status();
          const stale = Date.now() - lastPollOk > 3 * options.intervalMs + 30_000;
          return { healthy: !stale && failure.fatal === null, ...s, stale, draining: drain.aborted };
        },
      })
    : null;

  const pool =
    engine.kind === 'sqlite'
      ? runJobPool(engine.store, {
          ...engine.pool,
          ...(options.reporter ? { reporter: options.reporter } : {}),
          signal: options.abort,
          drain,
          doneWhenIdle: () => false,
          onFatal: (e) => {
            failure.fatal ??= e;
            drainController.abort();
          },
        })
      : Promise.resolve();

  emit({
    type: 'watch-start',
    ecosystem: source.ecosystem,
    feeds: source.ecosystem === 'pypi' ? source.feeds : null,
    registry: source.ecosystem === 'npm' ? source.registry : null,
    watching: source.ecosystem === 'npm' ? (source.watchlist?.length ?? null) : null,
    engine: engine.kind,
    workers: engine.kind === 'sqlite' ? engine.pool.workers : 0,
    healthPort: health?.port ?? null,
  });

  try {
    let nextPoll = 0;
    let nextStatus = Date.now() + (options.statusIntervalMs ?? 60_000);
    while (!drain.aborted && !options.abort.aborted) {
      if (Date.now() >= nextPoll) {
        await pollOnce();
        nextPoll = Date.now() + options.intervalMs;
      }
      await scanAlerts();
      await deliver();
      if (Date.now() >= nextStatus) {
        emit(await status());
        nextStatus = Date.now() + (options.statusIntervalMs ?? 60_000);
      }
      await sleep(options.tickMs ?? 1000, waits);
    }
    emit({ type: 'watch-draining' });
    await pool;
    if (!options.abort.aborted) {
      // What finished while draining still gets its alerts queued (and one delivery try).
      await scanAlerts();
      await deliver();
    }
    emit(await status());
    return { fatal: failure.fatal };
  } finally {
    drainController.abort();
    await pool.catch(() => undefined);
    options.drain.removeEventListener('abort', onDrain);
    await health?.close();
    emit({
      type: 'watch-stopped',
      fatal: failure.fatal === null ? null : { code: failure.fatal.code, message: failure.fatal.message },
    });
  }
}
