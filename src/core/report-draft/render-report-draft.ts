import type { BehaviourRecord } from '../record/schema.ts';
import { draftContext, PLACEHOLDER_CONTACT, type ReportDraftOptions } from './draft-context.ts';
import type { OsvRecord } from './osv-schema.ts';
import { renderEmail } from './render-email.ts';
import { renderOsv } from './render-osv.ts';

export type { ReportDraftOptions } from './draft-context.ts';

export interface ReportDraft {
  /** The email to the index's security contact (plain text, To: and Subject: lines first). */
  email: string;
  /** The OSV record to submit to the malicious-packages database. */
  osv: OsvRecord;
  /** What the reader should know before sending (clean verdict, no version, no artifact). */
  warnings: string[];
}

/** The malware report of one analysed release: the email and the OSV record, from the record alone. */
export function renderReportDraft(record: BehaviourRecord, options: ReportDraftOptions = {}): ReportDraft {
  const ctx = draftContext(record, options);
  const warnings: string[] = [];
  const verdict = record.verdict;
  if (verdict === undefined)
    warnings.push('the record has no verdict: check the evidence yourself before sending');
  else if (verdict.level === 'clean') {
    warnings.push(`the verdict is CLEAN (score ${verdict.score}): are you sure this release is malicious?`);
  }
  if (ctx.version === null)
    warnings.push('the record has no version: the OSV record marks every version affected');
  if (record.package.artifact === null)
    warnings.push('the record names no artifact: no sha256 in the report');
  if (options.to === undefined || options.to === null) {
    warnings.push('no security contact configured: set PKGHUNT_SECURITY_CONTACT or pass --to');
  }
  const email = renderEmail(ctx, {
    to: options.to ?? PLACEHOLDER_CONTACT,
    downloads: options.downloads ?? null,
  });
  return { email, osv: renderOsv(ctx), warnings };
}
