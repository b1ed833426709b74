import { readFile } from 'node:fs/promises';
import { loadAllowlist } from '../adapters/detect/load-allowlist.ts';
import { resolveIndexUrl } from '../adapters/registry/index-url.ts';
import { type Config, loadConfig } from '../config.ts';
import { PkghuntError } from '../core/errors.ts';
import { normalizeName } from '../core/pypi/normalize-name.ts';
import { parsePackageSpec } from '../core/pypi/package-spec.ts';
import { BehaviourRecord } from '../core/record/schema.ts';
import { OsvRecord } from '../core/report-draft/osv-schema.ts';
import { type ReportDraft, renderReportDraft } from '../core/report-draft/render-report-draft.ts';
import { downloadCount } from './downloads.ts';
import type { RecordSource } from './record-source.ts';

export interface DraftReportOptions {
  /** Where the record comes from: a store (either engine) or a record file. */
  store?: Pick<RecordSource, 'getRecord'>;
  recordFile?: string;
  to?: string | undefined;
  id?: string | undefined;
  credit?: string | undefined;
  indexUrl?: string | undefined;
  /** Also ask the configured download-statistics provider (none configured: left out). */
  withDownloads?: { days: number };
  config?: Config;
  env?: NodeJS.ProcessEnv;
  /** `published`/`modified`; default now. */
  now?: string;
}

async function _recordFromFile(path: string): Promise<BehaviourRecord> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new PkghuntError(
      missing ? 'LOCAL_FILE_NOT_FOUND' : 'RECORD_INVALID',
      `Cannot read the record ${path}: ${missing ? 'no such file' : String(cause)}`,
      { cause },
    );
  }
  const parsed = BehaviourRecord.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PkghuntError(
      'RECORD_INVALID',
      `Cannot use the record ${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      { hint: 'Give a record written by `pkghunt analyze --out` or `show --json`.' },
    );
  }
  return parsed.data;
}

/** The record to report: from the file, checked against the spec when one is given, or from the store. */
export async function recordForDraft(
  spec: string | undefined,
  options: Pick<DraftReportOptions, 'store' | 'recordFile'>,
): Promise<BehaviourRecord> {
  const parsed = spec === undefined ? null : parsePackageSpec(spec);
  if (parsed?.kind === 'local') {
    throw new PkghuntError('USAGE', `Cannot draft a report for ${spec}: expected NAME or NAME==VERSION`, {
      hint: 'For a local file, analyse it with --out FILE and pass --record FILE.',
    });
  }
  if (options.recordFile !== undefined) {
    const record = await _recordFromFile(options.recordFile);
    if (parsed && normalizeName(parsed.name) !== normalizeName(record.package.name)) {
      throw new PkghuntError(
        'USAGE',
        `Cannot draft ${spec} from ${options.recordFile}: it records ${record.package.name}`,
      );
    }
    if (parsed?.version && parsed.version !== record.package.version) {
      throw new PkghuntError(
        'USAGE',
        `Cannot draft ${spec} from ${options.recordFile}: it records version ${record.package.version}`,
      );
    }
    return record;
  }
  if (parsed === null || options.store === undefined) {
    throw new PkghuntError(
      'USAGE',
      'Cannot draft a report: give NAME[==VERSION] (read from the store) or --record FILE',
    );
  }
  const record = await options.store.getRecord(normalizeName(parsed.name), parsed.version ?? undefined);
  if (record === null) {
    throw new PkghuntError('PACKAGE_NOT_FOUND', `Cannot draft a report for ${spec}: no stored record`, {
      hint: 'Run `pkghunt hunt` or `analyze --out FILE` for it first, or check --db.',
    });
  }
  return record;
}

/** The index URL for the project page, or null when none can be resolved (no reference then). */
async function _indexUrl(cliValue: string | undefined, env: NodeJS.ProcessEnv): Promise<string | null> {
  try {
    return await resolveIndexUrl({ ...(cliValue === undefined ? {} : { cliValue }), env });
  } catch (error) {
    if (cliValue !== undefined) throw error;
    return null;
  }
}

/** The malware report of a stored (or saved) record: the email and the OSV record. */
export async function draftReport(
  spec: string | undefined,
  options: DraftReportOptions,
): Promise<ReportDraft & { record: BehaviourRecord }> {
  const config = options.config ?? loadConfig();
  if (options.id !== undefined && !OsvRecord.shape.id.safeParse(options.id).success) {
    throw new PkghuntError(
      'USAGE',
      `Cannot use --id ${JSON.stringify(options.id)}: expected MAL-YYYY-N or MAL-0000-...`,
      {
        hint: 'Leave --id out for the placeholder MAL-0000-pkghunt-NAME-VERSION; the database assigns real ids.',
      },
    );
  }
  const record = await recordForDraft(spec, options);
  const [allowlist, indexUrl] = await Promise.all([
    loadAllowlist(),
    _indexUrl(options.indexUrl, options.env ?? process.env),
  ]);
  const downloads = options.withDownloads
    ? await downloadCount(record.package.name, { days: options.withDownloads.days, config })
    : null;
  const to = options.to?.trim() || config.securityContact;
  const draft = renderReportDraft(record, {
    to,
    indexUrl,
    allowlist,
    now: options.now ?? new Date().toISOString(),
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.credit === undefined ? {} : { credit: options.credit }),
    downloads: downloads && { ...downloads, days: options.withDownloads?.days ?? 0 },
  });
  const valid = OsvRecord.safeParse(draft.osv);
  if (!valid.success) {
    throw new PkghuntError('INTERNAL', `Cannot draft a valid OSV record: ${valid.error.issues[0]?.message}`);
  }
  if (options.withDownloads && downloads === null) {
    draft.warnings.push('no download count: no download-statistics provider is configured or it failed');
  }
  return { ...draft, record };
}
