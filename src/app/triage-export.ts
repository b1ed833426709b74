import { loadAllowlist } from '../adapters/detect/load-allowlist.ts';
import type { Config } from '../config.ts';
import { type AllowlistCandidates, allowlistCandidates } from '../core/triage/allowlist-candidates.ts';
import { decisionsInForce } from '../core/triage/decision.ts';
import { openDashboardStores } from './serve.ts';

/**
 * The allowlist candidates of every false-positive decision in force (latest per release and
 * rule), in data/allowlist.json's format, minus what the current allowlist already allows.
 */
export async function exportAllowlistCandidates(options: {
  db?: string | undefined;
  config: Config;
  allowlistPath?: string | undefined;
}): Promise<AllowlistCandidates & { decisions: number }> {
  const existing = await loadAllowlist(options.allowlistPath);
  const stores = await openDashboardStores(options.db, options.config);
  try {
    const inForce = decisionsInForce(await stores.dashboard.allDecisions()).filter(
      (d) => d.label === 'false_positive',
    );
    const items = [];
    for (const decision of inForce) {
      const record = await stores.results.getRecord(decision.project, decision.version);
      if (record !== null) items.push({ decision, record });
    }
    return { ...allowlistCandidates(items, { existing }), decisions: inForce.length };
  } finally {
    await stores.close();
  }
}
