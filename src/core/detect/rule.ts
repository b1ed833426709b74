import type {
  AttributionKind,
  BehaviourRecord,
  FindingEvidence,
  PhaseName,
  Severity,
} from '../record/schema.ts';
import type { RecordView } from './record-view.ts';

export type Culprit = { kind: AttributionKind; distribution: string | null };

/** A behaviour key the population can be asked about (see PopulationView). */
export interface PopulationKey {
  kind: 'host' | 'command' | 'path' | 'dns';
  key: string;
}

/** One match of a rule: where in the record, who did it, and what the population may weigh. */
export interface RuleHit {
  phase: PhaseName;
  evidence: FindingEvidence[];
  culprit: Culprit | null;
  /** Overrides the rule's severity for this hit (e.g. several recon commands weigh more than one). */
  severity?: Severity;
  population?: PopulationKey;
}

/**
 * A detection rule, declared as data plus one pure `match`. Rules see a RecordView, where
 * pip's own work and the allowlisted build machinery are already set aside.
 */
export interface Rule {
  id: string;
  severity: Severity;
  title: string;
  description: string;
  /** MITRE ATT&CK technique, e.g. T1041. */
  attack?: string;
  match(record: BehaviourRecord, view: RecordView): RuleHit[];
}
