import type { Allowlist } from '../detect/allowlist.ts';
import type { BehaviourRecord, Finding } from '../record/schema.ts';
import { collectEvidence, type DraftEvidence } from './collect-evidence.ts';
import { projectPageUrl } from './project-url.ts';

export interface ReportDraftOptions {
  /** The index's security contact; null: a placeholder line says what to set. */
  to?: string | null;
  /** The configured index URL, for the project page reference; null: no reference. */
  indexUrl?: string | null;
  /** The OSV id; default the placeholder `MAL-0000-pkghunt-NAME-VERSION` (the database assigns real ids). */
  id?: string;
  /** `published`/`modified` time (ISO 8601); default the record's `finished_at`. */
  now?: string;
  /** Build machinery known benign (data/allowlist.json), left out of the evidence as the rules do. */
  allowlist?: Allowlist;
  /** Who found it, for the OSV `credits` and the email's signature. */
  credit?: string | null;
  /** Downloads over a recent period, when known (`pkghunt downloads`). */
  downloads?: { count: number; days: number; provider: string } | null;
  /** Items shown per list in the email; the OSV record keeps them all. */
  maxItems?: number;
  /** Characters of a sent preview kept. */
  previewChars?: number;
}

/** What both the email and the OSV record are written from. */
export interface DraftContext {
  record: BehaviourRecord;
  name: string;
  version: string | null;
  evidence: DraftEvidence;
  findings: Finding[];
  projectPage: string | null;
  id: string;
  time: string;
  credit: string;
  maxItems: number;
}

export const PLACEHOLDER_CONTACT = "<the index's security contact — set PKGHUNT_SECURITY_CONTACT>";

/** RFC 3339 in UTC without fractions, as the malicious-packages records write times. */
export function osvTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`Cannot read the time ${JSON.stringify(iso)}`);
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** The placeholder id of a submission: the database replaces it with its own `MAL-YYYY-N`. */
export function placeholderId(name: string, version: string | null): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-');
  return `MAL-0000-pkghunt-${safe(name)}${version === null ? '' : `-${safe(version)}`}`;
}

export function draftContext(record: BehaviourRecord, options: ReportDraftOptions): DraftContext {
  const name = record.package.name;
  const version = record.package.version;
  return {
    record,
    name,
    version,
    evidence: collectEvidence(record, {
      ...(options.allowlist ? { allowlist: options.allowlist } : {}),
      previewChars: options.previewChars ?? 240,
    }),
    findings: record.verdict?.findings ?? [],
    projectPage: options.indexUrl ? projectPageUrl(options.indexUrl, name, version) : null,
    id: options.id ?? placeholderId(name, version),
    time: osvTime(options.now ?? record.finished_at),
    credit: options.credit ?? 'pkghunt',
    maxItems: options.maxItems ?? 20,
  };
}
