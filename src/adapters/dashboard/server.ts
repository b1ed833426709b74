import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PROJECT_ROOT } from '../../config.ts';
import { html } from '../../core/dashboard/html.ts';
import { layout } from '../../core/dashboard/pages/layout.ts';
import { renderOverviewPage } from '../../core/dashboard/pages/overview-page.ts';
import { type DownloadsView, renderPackagePage } from '../../core/dashboard/pages/package-page.ts';
import { renderReportDraftPage } from '../../core/dashboard/pages/report-draft-page.ts';
import { renderSearchPage } from '../../core/dashboard/pages/search-page.ts';
import { renderTriagePage } from '../../core/dashboard/pages/triage-page.ts';
import type { Allowlist } from '../../core/detect/allowlist.ts';
import { diffRecords } from '../../core/diff/diff-records.ts';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { normalizeName } from '../../core/pypi/normalize-name.ts';
import type { BehaviourRecord } from '../../core/record/schema.ts';
import { createReportBuilder, type StudyReport } from '../../core/report/study-report.ts';
import { renderReportDraft } from '../../core/report-draft/render-report-draft.ts';
import { DecisionInput, TriageLabel } from '../../core/triage/decision.ts';
import { type DashboardStore, SEARCH_KINDS, type TriageFilter } from '../store/dashboard-store.ts';
import type { ResultStore } from '../store/store.ts';

/**
 * Served with every response. No inline script or style anywhere (`'self'` only), no framing,
 * no plugins, forms only to us: even an escaping bug could not run a package's script.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** The static files, read from the checkout (not next to this module: bin/pkghunt runs a bundle). */
const ASSETS_DIR = join(PROJECT_ROOT, 'src', 'adapters', 'dashboard', 'assets');
const ASSETS: Record<string, { file: string; type: string }> = {
  'dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

export interface DashboardServerOptions {
  results: ResultStore;
  dashboard: DashboardStore;
  /** Where the store is, for the overview's caption (credentials already hidden). */
  source: string;
  /** Bearer token for POST /api/triage; null: triage is disabled (read-only). */
  token: string | null;
  /** How often the live feed asks the store for new results. */
  pollMs?: number;
  /** Rows of each overview ranking. */
  top?: number;
  now?: () => Date;
  /** For the report draft of confirmed releases. */
  draft?: { to: string | null; indexUrl: string | null; allowlist?: Allowlist };
  /**
   * The download count of a project (app/dashboard-downloads.ts: cached, bounded wait, never
   * throws); absent: the package page says the server does not look them up.
   */
  downloads?: (project: string, ecosystem: 'pypi' | 'npm') => Promise<DownloadsView>;
}

/** Empty form fields (GET forms send them) are absent values. */
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().max(500).optional());
const optionalDate = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
    .optional(),
);

export const TriageQuery = z.object({
  rule: optionalText,
  level: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['suspicious', 'malicious']).optional()),
  since: optionalDate,
  until: optionalDate,
  host: optionalText,
  decision: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.union([TriageLabel, z.literal('undecided')]).optional(),
  ),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const SearchQuery = z.object({
  q: z.preprocess((v) => (v === '' ? undefined : v), z.string().max(500).optional()),
  kind: z.preprocess((v) => (v === '' ? undefined : v), z.enum(SEARCH_KINDS).default('package')),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

const EventsQuery = z.object({ after: z.coerce.number().int().min(0).optional() });
const PackageParams = z.object({ name: z.string().min(1).max(200), version: z.string().min(1).max(200) });

function _parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PkghuntError(
      'USAGE',
      `Cannot read the ${what}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }
  return parsed.data;
}

function _nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00.000Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}

export function triageFilter(query: z.infer<typeof TriageQuery>): TriageFilter {
  return {
    rule: query.rule,
    level: query.level,
    since: query.since === undefined ? undefined : `${query.since}T00:00:00.000Z`,
    before: query.until === undefined ? undefined : _nextDay(query.until),
    host: query.host,
    decision: query.decision,
    limit: query.limit,
  };
}

/** A download's file name: nothing a header could be split or quoted with. */
function _fileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

function _digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

const STATUS: Partial<Record<string, number>> = {
  USAGE: 400,
  RECORD_INVALID: 500,
  PACKAGE_NOT_FOUND: 404,
  TRIAGE_DISABLED: 403,
  TRIAGE_UNAUTHORIZED: 401,
  STORE_UNAVAILABLE: 503,
};

/**
 * The dashboard's HTTP server: HTML pages rendered on the server (escaped by construction,
 * src/core/dashboard/html.ts), a JSON API under /api/, a Server-Sent Events feed, and two static
 * files. Reading needs nothing; POST /api/triage needs the configured Bearer token.
 */
export async function buildDashboardServer(options: DashboardServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  const now = options.now ?? (() => new Date());
  const pollMs = options.pollMs ?? 2000;
  const top = options.top ?? 15;
  const triageEnabled = options.token !== null && options.token !== '';
  const tokenDigest = triageEnabled ? _digest(options.token ?? '') : null;
  const assets = new Map(
    Object.entries(ASSETS).map(([name, a]) => [
      name,
      { type: a.type, body: readFileSync(join(ASSETS_DIR, a.file)) },
    ]),
  );
  const streams = new Set<{ end: () => void }>();

  // The study's numbers over every record: recomputed only when a new result arrived.
  let cached: { id: number; report: StudyReport } | null = null;
  async function studyReport(latestId: number): Promise<StudyReport> {
    if (cached !== null && cached.id === latestId) return cached.report;
    const builder = createReportBuilder({ top });
    for await (const record of options.results.iterateRecords({ latestOnly: true })) builder.add(record);
    cached = { id: latestId, report: builder.finish() };
    return cached.report;
  }

  async function loadRecord(
    rawName: string,
    version: string,
  ): Promise<{ project: string; record: BehaviourRecord }> {
    const project = normalizeName(rawName);
    const record = await options.results.getRecord(project, version);
    if (record === null) {
      throw new PkghuntError('PACKAGE_NOT_FOUND', `No stored result for ${project} ${version}`, {
        hint: 'Search for the package, or analyse it with pkghunt hunt.',
      });
    }
    return { project, record };
  }

  async function downloadsOf(record: BehaviourRecord): Promise<DownloadsView> {
    if (options.downloads === undefined) {
      return {
        known: false,
        days: 30,
        provider: null,
        source: null,
        reason: 'this server does not look them up',
      };
    }
    return options.downloads(record.package.name, record.package.ecosystem);
  }

  /** The release's decisions, and its report draft once it is confirmed malicious. */
  async function draftFor(
    project: string,
    version: string,
    record: BehaviourRecord,
    downloads: DownloadsView,
  ) {
    const decisions = await options.dashboard.decisions(project, version);
    const release = decisions.find((d) => d.rule === null);
    if (release?.label !== 'confirmed_malicious') return { decisions, draft: null };
    const d = options.draft;
    const draft = renderReportDraft(record, {
      to: d?.to ?? null,
      indexUrl: d?.indexUrl ?? null,
      ...(d?.allowlist ? { allowlist: d.allowlist } : {}),
      downloads: downloads.known
        ? { count: downloads.count, days: downloads.days, provider: downloads.provider }
        : null,
    });
    return { decisions, draft };
  }

  async function confirmedDraft(params: { name: string; version: string }) {
    const { project, record } = await loadRecord(params.name, params.version);
    const { draft } = await draftFor(project, params.version, record, await downloadsOf(record));
    if (draft === null) {
      throw new PkghuntError('PACKAGE_NOT_FOUND', `${project} ${params.version} is not confirmed malicious`, {
        hint: 'A report draft is offered once an analyst confirms the release as malicious.',
      });
    }
    return { project, draft };
  }

  function requireToken(request: FastifyRequest): void {
    if (tokenDigest === null) {
      throw new PkghuntError('TRIAGE_DISABLED', 'Triage is disabled: the server has no token', {
        hint: 'Start pkghunt serve with PKGHUNT_SERVE_TOKEN set or --token-file.',
      });
    }
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (match === null || !timingSafeEqual(_digest(match[1] ?? ''), tokenDigest)) {
      throw new PkghuntError('TRIAGE_UNAUTHORIZED', 'A triage decision needs the Bearer token', {
        hint: 'Send Authorization: Bearer <the token the server was started with>.',
      });
    }
  }

  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.setErrorHandler((error, request, reply) => {
    const fastifyStatus = (error as { statusCode?: number }).statusCode;
    const e =
      fastifyStatus !== undefined && fastifyStatus < 500 && !(error instanceof PkghuntError)
        ? new PkghuntError('USAGE', `Cannot read the request: ${(error as Error).message}`)
        : toPkghuntError(error);
    const status = STATUS[e.code] ?? 500;
    if (request.url.startsWith('/api/')) {
      return reply.status(status).send({ error: { code: e.code, message: e.message, hint: e.hint ?? null } });
    }
    return reply
      .status(status)
      .type('text/html; charset=utf-8')
      .send(
        layout({
          title: status === 404 ? 'Not found' : 'Error',
          section: 'package',
          triageEnabled,
          body: html`<p class="notice"><strong>${e.code}</strong>: ${e.message}</p>${e.hint ? html`<p>${e.hint}</p>` : ''}`,
        }),
      );
  });

  app.setNotFoundHandler((request) => {
    throw new PkghuntError('PACKAGE_NOT_FOUND', `Nothing here: ${request.url.slice(0, 200)}`);
  });

  app.get('/assets/:file', async (request, reply) => {
    const { file } = z.object({ file: z.string() }).parse(request.params);
    const asset = assets.get(file);
    if (asset === undefined) throw new PkghuntError('PACKAGE_NOT_FOUND', `No asset ${file}`);
    return reply.type(asset.type).send(asset.body);
  });

  // ---- pages ----
  app.get('/', async (_request, reply) => {
    const latestId = await options.dashboard.latestResultId();
    const [perDay, verdicts, report, recent] = await Promise.all([
      options.dashboard.analysedPerDay(),
      options.dashboard.verdictCounts(),
      studyReport(latestId),
      options.dashboard.recentResults(20),
    ]);
    return reply.type('text/html; charset=utf-8').send(
      renderOverviewPage({
        perDay,
        verdicts,
        report,
        recent,
        latestId,
        source: options.source,
        triageEnabled,
      }),
    );
  });

  app.get('/triage', async (request, reply) => {
    const query = _parse(TriageQuery, request.query, 'triage filter');
    const latestId = await options.dashboard.latestResultId();
    const entries = await options.dashboard.triageQueue(triageFilter(query));
    return reply.type('text/html; charset=utf-8').send(
      renderTriagePage({
        entries,
        filter: { ...query, level: query.level, decision: query.decision },
        triageEnabled,
        latestId,
      }),
    );
  });

  app.get('/search', async (request, reply) => {
    const query = _parse(SearchQuery, request.query, 'search');
    const results =
      query.q === undefined ? null : await options.dashboard.search(query.kind, query.q, query.limit);
    return reply.type('text/html; charset=utf-8').send(
      renderSearchPage({
        query: query.q ?? '',
        kind: query.kind,
        kinds: SEARCH_KINDS,
        results,
        triageEnabled,
      }),
    );
  });

  app.get('/package/:name', async (request, reply) => {
    const { name } = z.object({ name: z.string().min(1).max(200) }).parse(request.params);
    const record = await options.results.getRecord(normalizeName(name));
    if (record === null || record.package.version === null) {
      throw new PkghuntError('PACKAGE_NOT_FOUND', `No stored result for ${name}`);
    }
    return reply.redirect(
      `/package/${encodeURIComponent(normalizeName(name))}/${encodeURIComponent(record.package.version)}`,
    );
  });

  app.get('/package/:name/:version', async (request, reply) => {
    const params = _parse(PackageParams, request.params, 'package');
    const { project, record } = await loadRecord(params.name, params.version);
    const previous = await options.results.previousRecord(project, params.version);
    const downloads = await downloadsOf(record);
    const { decisions, draft } = await draftFor(project, params.version, record, downloads);
    return reply.type('text/html; charset=utf-8').send(
      renderPackagePage({
        record,
        project,
        version: params.version,
        decisions,
        diff: previous === null ? null : diffRecords(previous, record),
        draft,
        downloads,
        triageEnabled,
      }),
    );
  });

  app.get('/package/:name/:version/report-draft', async (request, reply) => {
    const params = _parse(PackageParams, request.params, 'package');
    const { project, draft } = await confirmedDraft(params);
    return reply
      .type('text/html; charset=utf-8')
      .send(renderReportDraftPage({ draft, project, version: params.version, triageEnabled }));
  });

  // ---- JSON API ----
  app.get('/api/overview', async () => {
    const latestId = await options.dashboard.latestResultId();
    return {
      latestId,
      perDay: await options.dashboard.analysedPerDay(),
      verdicts: await options.dashboard.verdictCounts(),
      report: await studyReport(latestId),
    };
  });

  app.get('/api/triage', async (request) => {
    const query = _parse(TriageQuery, request.query, 'triage filter');
    return { triageEnabled, entries: await options.dashboard.triageQueue(triageFilter(query)) };
  });

  app.get('/api/search', async (request) => {
    const query = _parse(SearchQuery, request.query, 'search');
    if (query.q === undefined) throw new PkghuntError('USAGE', 'Cannot search without q');
    return {
      kind: query.kind,
      q: query.q,
      results: await options.dashboard.search(query.kind, query.q, query.limit),
    };
  });

  app.get('/api/packages/:name/:version', async (request) => {
    const params = _parse(PackageParams, request.params, 'package');
    const { project, record } = await loadRecord(params.name, params.version);
    const previous = await options.results.previousRecord(project, params.version);
    return {
      record,
      decisions: await options.dashboard.decisions(project, params.version),
      diff: previous === null ? null : diffRecords(previous, record),
    };
  });

  app.get('/api/packages/:name/:version/record.json', async (request, reply) => {
    const params = _parse(PackageParams, request.params, 'package');
    const { project, record } = await loadRecord(params.name, params.version);
    const file = _fileName(`${project}-${params.version}.json`);
    return reply
      .type('application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${file}"`)
      .send(`${JSON.stringify(record, null, 2)}\n`);
  });

  app.get('/api/packages/:name/:version/report-draft', async (request) => {
    return (await confirmedDraft(_parse(PackageParams, request.params, 'package'))).draft;
  });

  app.get('/api/packages/:name/:version/report-draft/email.txt', async (request, reply) => {
    const params = _parse(PackageParams, request.params, 'package');
    const { project, draft } = await confirmedDraft(params);
    return reply
      .type('text/plain; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="${_fileName(`report-${project}-${params.version}.txt`)}"`,
      )
      .send(draft.email);
  });

  app.get('/api/packages/:name/:version/report-draft/osv.json', async (request, reply) => {
    const { draft } = await confirmedDraft(_parse(PackageParams, request.params, 'package'));
    return reply
      .type('application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${_fileName(`${draft.osv.id}.json`)}"`)
      .send(`${JSON.stringify(draft.osv, null, 2)}\n`);
  });

  app.get('/api/downloads/:name', async (request) => {
    const { name } = _parse(z.object({ name: z.string().min(1).max(200) }), request.params, 'package');
    const record = await options.results.getRecord(normalizeName(name));
    if (record === null) throw new PkghuntError('PACKAGE_NOT_FOUND', `No stored result for ${name}`);
    return downloadsOf(record);
  });

  app.get('/api/decisions', async () => ({ decisions: await options.dashboard.allDecisions() }));

  app.post('/api/triage', async (request, reply) => {
    requireToken(request);
    const input = _parse(DecisionInput, request.body, 'decision');
    const project = normalizeName(input.project);
    await loadRecord(project, input.version);
    const decision = await options.dashboard.addDecision({ ...input, project }, now().toISOString());
    return reply.status(201).send({ decision });
  });

  // Live feed: polls the store (so it sees results another process, hunt or watch, writes).
  app.get('/api/events', async (request, reply) => {
    const query = _parse(EventsQuery, request.query, 'events query');
    const lastEventId = Number(request.headers['last-event-id']);
    let cursor =
      Number.isInteger(lastEventId) && lastEventId >= 0
        ? lastEventId
        : (query.after ?? (await options.dashboard.latestResultId()));
    reply.hijack();
    const raw: ServerResponse = reply.raw;
    raw.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    raw.write(`retry: ${pollMs}\n: cursor ${cursor}\n\n`);
    let closed = false;
    let timer: NodeJS.Timeout | null = null;
    const stream = {
      end() {
        if (closed) return;
        closed = true;
        if (timer !== null) clearTimeout(timer);
        streams.delete(stream);
        raw.end();
      },
    };
    streams.add(stream);
    request.raw.on('close', () => stream.end());
    async function poll(): Promise<void> {
      if (closed) return;
      try {
        const rows = await options.dashboard.resultsAfter(cursor, 100);
        for (const row of rows) {
          raw.write(`id: ${row.id}\nevent: verdict\ndata: ${JSON.stringify(row)}\n\n`);
          cursor = row.id;
        }
        if (rows.length === 0) raw.write(': idle\n\n');
      } catch {
        raw.write(': store unavailable, retrying\n\n');
      }
      if (!closed) timer = setTimeout(() => void poll(), pollMs);
    }
    await poll();
  });

  app.addHook('onClose', async () => {
    for (const stream of [...streams]) stream.end();
  });

  return app;
}

export type { FastifyInstance, FastifyReply };
