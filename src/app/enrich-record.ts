import { loadAllowlist } from '../adapters/detect/load-allowlist.ts';
import type { Allowlist } from '../core/detect/allowlist.ts';
import { evaluateRecord } from '../core/detect/evaluate-record.ts';
import { diffFromPrevious } from '../core/diff/diff-records.ts';
import type { Population } from '../core/population/population.ts';
import type { BehaviourRecord } from '../core/record/schema.ts';
import { previousRecordOf, type RecordSource } from './record-source.ts';

/**
 * What hunt and worker add to a record right before storing it, once the rest of the store is
 * known: what changed since the previous analysed release of the project (`diff_from_previous`),
 * and the verdict scored again with the population (rare behaviour weighs more, behaviour common
 * among popular packages less) and, when the store feeds triage (app/triage-feed.ts), with the
 * analysts' false positives dismissed. The static findings already in the verdict are kept.
 */
export async function enrichRecord(
  record: BehaviourRecord,
  options: { store: RecordSource; population: Population | null; allowlist?: Allowlist },
): Promise<BehaviourRecord> {
  const previous = await previousRecordOf(options.store, record.package.name, record.package.version, {
    ecosystem: record.package.ecosystem,
  });
  const enriched: BehaviourRecord = { ...record };
  if (previous !== null && previous.package.version !== record.package.version) {
    enriched.diff_from_previous = diffFromPrevious(previous, record);
  }
  const triage = await options.store.triageBaseline?.();
  if (record.verdict !== undefined && (options.population !== null || triage !== undefined)) {
    enriched.verdict = evaluateRecord(record, {
      allowlist: options.allowlist ?? (await loadAllowlist()),
      ...(options.population !== null ? { population: options.population } : {}),
      ...(triage !== undefined ? { dismiss: triage.dismiss } : {}),
    });
  }
  return enriched;
}
