import { z } from 'zod';
import type { Decision, DecisionInput } from '../../core/triage/decision.ts';

/**
 * What the dashboard (`pkghunt serve`) reads beyond `ResultStore`, plus the triage decisions it
 * writes. Implemented for SQLite (triage-sqlite.ts) and PostgreSQL (triage-postgres.ts) with the
 * same semantics; both read the latest result of each (project, version) unless said otherwise.
 */
export const ResultSummary = z.object({
  /** The results row id: grows with every stored result (the live feed's cursor). */
  id: z.number().int(),
  project: z.string(),
  version: z.string().nullable(),
  storedAt: z.string(),
  verdictLevel: z.string().nullable(),
  verdictScore: z.number().nullable(),
  installStatus: z.string().nullable(),
  importStatus: z.string().nullable(),
});
export type ResultSummary = z.infer<typeof ResultSummary>;

export interface QueueEntry extends ResultSummary {
  /** Rule ids of the verdict's findings. */
  rules: string[];
  /** The release-level decision in force, if any. */
  decision: Decision | null;
}

export const SEARCH_KINDS = ['package', 'host', 'dns', 'command', 'path'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

export interface TriageFilter {
  rule?: string | undefined;
  level?: 'suspicious' | 'malicious' | undefined;
  /** ISO bounds on when the result was stored: since inclusive, before exclusive. */
  since?: string | undefined;
  before?: string | undefined;
  /** A destination host, IP or DNS name the release contacted or looked up (exact). */
  host?: string | undefined;
  decision?: Decision['label'] | 'undecided' | undefined;
  limit: number;
}

export interface DashboardStore {
  latestResultId(): Promise<number>;
  /** Results stored after `afterId`, oldest first (every result, for the live feed). */
  resultsAfter(afterId: number, limit: number): Promise<ResultSummary[]>;
  /** The latest results, newest first. */
  recentResults(limit: number): Promise<ResultSummary[]>;
  /** Results stored per UTC day, oldest day first. */
  analysedPerDay(): Promise<{ day: string; packages: number }[]>;
  /** Latest result of each release, by verdict level (`none`: no verdict). */
  verdictCounts(): Promise<{ level: string; packages: number }[]>;
  /** Suspicious and malicious releases, highest score first. */
  triageQueue(filter: TriageFilter): Promise<QueueEntry[]>;
  /** Releases whose name, host, DNS name, command or file path contains `text` (case-insensitive). */
  search(kind: SearchKind, text: string, limit: number): Promise<ResultSummary[]>;
  addDecision(input: DecisionInput, decidedAt: string): Promise<Decision>;
  /** Every decision about a release, newest first. */
  decisions(project: string, version: string): Promise<Decision[]>;
  /** The whole history, oldest first. */
  allDecisions(): Promise<Decision[]>;
  close(): Promise<void>;
}
