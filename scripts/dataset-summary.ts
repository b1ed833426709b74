/**
 * Counts what the real malware samples showed when analysed (scripts/dataset.sh writes one record
 * per sample): network, DNS, commands beyond the build's own, canary hits, or nothing observable.
 * Usage: node --import tsx scripts/dataset-summary.ts RECORDS_DIR LABELS_TSV
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBuildOwnCommand } from '../src/core/behaviour/build-own-commands.ts';
import { isBuildOwnFile } from '../src/core/behaviour/build-own-files.ts';
import { BehaviourRecord, type Phase } from '../src/core/record/schema.ts';

const [recordsDir, labelsPath] = process.argv.slice(2);
if (!recordsDir || !labelsPath) {
  console.error('usage: dataset-summary.ts RECORDS_DIR LABELS_TSV');
  process.exit(2);
}

const labels = readFileSync(labelsPath, 'utf8').trim().split('\n').slice(1).length;
const counts = {
  analysed: 0,
  failedToAnalyse: 0,
  network: 0,
  dns: 0,
  commands: 0,
  canary: 0,
  files: 0,
  nothing: 0,
  installCompleted: 0,
  timeout: 0,
};
const nothing: string[] = [];
const nothingWhy = new Map<string, number>();

/** A crude reason for a silent sample, from its install output (for the report, not for detection). */
function silentReason(record: BehaviourRecord): string {
  const install = record.phases.install;
  const text = `${install?.stdout_tail ?? ''}\n${install?.stderr_tail ?? ''}`;
  if (install?.status === 'completed' && install.exit_code === 0) return 'installed, nothing observable';
  const missing = /No module named '([^']+)'/.exec(text);
  if (missing) return 'setup.py needs a module the build environment lacks';
  if (/USERPROFILE|APPDATA|LOCALAPPDATA|winreg|windll|powershell|\.exe\b|WinError/i.test(text))
    return 'Windows-only code';
  if (install?.status === 'timeout') return 'timed out';
  return 'install failed for another reason';
}
const failures: string[] = [];

function phases(record: BehaviourRecord): Phase[] {
  return [record.phases.install, record.phases.import].filter((p): p is Phase => p !== undefined);
}

for (const file of readdirSync(recordsDir)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const name = file.replace(/\.json$/, '');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(recordsDir, file), 'utf8'));
  } catch {
    counts.failedToAnalyse++;
    failures.push(`${name}: no record (unparsable output)`);
    continue;
  }
  const parsed = BehaviourRecord.safeParse(json);
  if (!parsed.success) {
    counts.failedToAnalyse++;
    const error = (json as { error?: { code?: string; message?: string } }).error;
    failures.push(`${name}: ${error?.code ?? 'invalid record'} ${error?.message ?? ''}`.trim());
    continue;
  }
  const record = parsed.data;
  counts.analysed++;
  const ps = phases(record);
  if (record.phases.install?.status === 'completed' && record.phases.install.exit_code === 0)
    counts.installCompleted++;
  if (ps.some((p) => p.status === 'timeout')) counts.timeout++;
  const net = ps.some((p) => p.connections.length > 0);
  const dns = ps.some((p) => p.dns.length > 0);
  const cmds = ps.some((p) => p.commands.some((c) => !isBuildOwnCommand(c.argv)));
  const canary = ps.some((p) => p.canaries.length > 0);
  const files = ps.some((p) =>
    p.files.some((f) => !isBuildOwnFile(f.path) && f.ops.some((op) => op !== 'read')),
  );
  if (net) counts.network++;
  if (dns) counts.dns++;
  if (cmds) counts.commands++;
  if (canary) counts.canary++;
  if (files) counts.files++;
  if (!net && !dns && !cmds && !canary) {
    counts.nothing++;
    const why = silentReason(record);
    nothingWhy.set(why, (nothingWhy.get(why) ?? 0) + 1);
    nothing.push(
      `${name} (install ${record.phases.install?.status}, exit ${record.phases.install?.exit_code}: ${why})`,
    );
  }
}

const pct = (n: number) => `${((100 * n) / Math.max(1, counts.analysed)).toFixed(1)}%`;
console.log(`# Real samples through \`pkghunt analyze\`\n`);
console.log(
  `Samples listed: ${labels}; analysed: ${counts.analysed}; analysis failed: ${counts.failedToAnalyse}\n`,
);
console.log('| what the record shows (install or import) | samples | share of analysed |');
console.log('| --- | --- | --- |');
console.log(`| network connection caught by the sinkhole | ${counts.network} | ${pct(counts.network)} |`);
console.log(`| DNS lookup | ${counts.dns} | ${pct(counts.dns)} |`);
console.log(`| commands beyond the build's own | ${counts.commands} | ${pct(counts.commands)} |`);
console.log(`| canary hit (read or sent) | ${counts.canary} | ${pct(counts.canary)} |`);
console.log(
  `| files written outside the install and pip's scratch | ${counts.files} | ${pct(counts.files)} |`,
);
console.log(`| none of network, DNS, commands, canaries | ${counts.nothing} | ${pct(counts.nothing)} |`);
console.log(
  `| install completed with exit 0 | ${counts.installCompleted} | ${pct(counts.installCompleted)} |`,
);
console.log(`| a phase timed out | ${counts.timeout} | ${pct(counts.timeout)} |`);
if (nothingWhy.size > 0) {
  console.log('\nWhy the silent samples were silent (from their install output):\n');
  console.log('| reason | samples |');
  console.log('| --- | --- |');
  for (const [why, n] of [...nothingWhy.entries()].sort((a, b) => b[1] - a[1]))
    console.log(`| ${why} | ${n} |`);
}
if (failures.length > 0) console.log(`\nAnalysis failures:\n${failures.map((f) => `- ${f}`).join('\n')}`);
if (nothing.length > 0) console.log(`\nNothing observable:\n${nothing.map((f) => `- ${f}`).join('\n')}`);
