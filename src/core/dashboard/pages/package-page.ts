import type { RecordDiff } from '../../diff/diff-records.ts';
import type { ProviderName } from '../../downloads/download-count.ts';
import type { Attribution, BehaviourRecord, Connection, Phase, PhaseName } from '../../record/schema.ts';
import type { ReportDraft } from '../../report-draft/render-report-draft.ts';
import type { Decision } from '../../triage/decision.ts';
import { hexDump, isBinary, previewBytes } from '../hex-view.ts';
import { html, type SafeHtml } from '../html.ts';
import { type ProcessNode, processTree } from '../process-tree.ts';
import { phaseTimeline } from '../timeline.ts';
import { layout, levelBadge, packageHref } from './layout.ts';
import { reportDraftSection } from './report-draft-page.ts';
import { decisionForm, decisionText, tokenBox } from './triage-page.ts';

export interface PackagePageData {
  record: BehaviourRecord;
  project: string;
  version: string;
  /** Every decision about the release, newest first. */
  decisions: Decision[];
  diff: RecordDiff | null;
  /** The draft of the malware report, offered once the release is confirmed malicious. */
  draft: ReportDraft | null;
  /** Downloads over a recent period, or why they are not known. */
  downloads: DownloadsView;
  triageEnabled: boolean;
}

/** The download count of a project as the dashboard shows it (app/dashboard-downloads.ts). */
export type DownloadsView =
  | {
      known: true;
      count: number;
      days: number;
      provider: ProviderName;
      /** The provider in words (e.g. "the stats API at stats.internal"). */
      source: string;
      /** First and last day counted, when the provider says. */
      from: string | null;
      to: string | null;
      /** Days the provider had data for, when fewer than asked. */
      coveredDays: number | null;
      note: string;
    }
  | { known: false; days: number; provider: ProviderName | null; source: string | null; reason: string };

/** "6,789 over the last 30 days (2024-05-11 to 2024-06-09, ...), from ..." or "unknown (reason)". */
export function downloadsText(d: DownloadsView): string {
  if (!d.known) return `unknown (${d.reason})${d.source ? `; provider: ${d.source}` : ''}`;
  const window = [
    d.from !== null && d.to !== null ? `${d.from} to ${d.to}` : null,
    d.coveredDays !== null && d.coveredDays < d.days ? `data for ${d.coveredDays} of them` : null,
    d.note,
  ].filter((part) => part !== null && part !== '');
  const period = `over the last ${d.days} day${d.days === 1 ? '' : 's'}`;
  return `${d.count.toLocaleString('en-US')} ${period}${window.length > 0 ? ` (${window.join('; ')})` : ''}, from ${d.source} (${d.provider})`;
}

/** The id an evidence pointer links to (`/phases/install/commands/3` -> `ev-phases-install-commands-3`). */
export function anchorOf(pointer: string): string {
  return `ev${pointer.replace(/[^A-Za-z0-9]+/g, '-')}`;
}

function _by(by: readonly Attribution[] | Attribution | undefined): SafeHtml {
  const list = by === undefined ? [] : Array.isArray(by) ? by : [by as Attribution];
  if (list.length === 0) return html``;
  return html`<span class="by">${list.map((b) => (b.distribution ? `${b.kind}:${b.distribution}` : b.kind)).join(', ')}</span>`;
}

function _tree(nodes: readonly ProcessNode[], phase: PhaseName): SafeHtml {
  if (nodes.length === 0) return html``;
  return html`<ul class="tree">${nodes.map(
    (
      n,
    ) => html`<li id="${anchorOf(`/phases/${phase}/commands/${n.index}`)}"><code class="argv">${n.command.argv.join(' ')}</code>
<small>pid ${n.command.pid} · ${n.command.time.toFixed(3)} s</small> ${_by(n.command.by)}${_tree(n.children, phase)}</li>`,
  )}</ul>`;
}

function _connection(c: Connection, index: number, phase: PhaseName): SafeHtml {
  const bytes = previewBytes(c.sent_preview);
  const binary = isBinary(bytes);
  const hex = hexDump(bytes)
    .map((l) => `${l.offset}  ${l.hex.padEnd(47)}  ${l.ascii}`)
    .join('\n');
  return html`<div class="connection" id="${anchorOf(`/phases/${phase}/connections/${index}`)}">
<p><strong>${c.protocol} ${c.hostname ?? c.ip}:${c.port}</strong> (${c.ip}) · ${c.sent_bytes} bytes sent · ${c.time.toFixed(3)} s ${_by(c.by)}
${c.http ? html`<br>HTTP <code>${c.http.method} ${c.http.host ?? ''}${c.http.path}</code>` : ''}${c.tls_sni ? html`<br>TLS SNI <code>${c.tls_sni}</code>` : ''}</p>
<div class="payload"><div><h4>sent bytes as text${binary ? ' (binary bytes as \\xNN)' : ''}</h4><pre class="sent-text">${c.sent_preview}</pre></div>
<div><h4>hex</h4><pre class="hex">${hex}</pre></div></div></div>`;
}

function _phase(name: PhaseName, phase: Phase): SafeHtml {
  const timeline = phaseTimeline(name, phase);
  return html`<section class="phase"><h2>Phase ${name}: ${phase.status}</h2>
<p>exit code ${phase.exit_code ?? 'none'} · ${(phase.duration_ms / 1000).toFixed(1)} s · ${phase.process_count} processes${
    phase.reason ? html` · <span class="reason">${phase.reason}</span>` : ''
  }${phase.limits_hit.length > 0 ? html` · limits hit: ${phase.limits_hit.join(', ')}` : ''}</p>
<h3>Process tree</h3>${phase.commands.length === 0 ? html`<p class="empty">(no commands)</p>` : _tree(processTree(phase.commands), name)}
<h3>Timeline</h3>${
    timeline.length === 0
      ? html`<p class="empty">(no timed events)</p>`
      : html`<table class="timeline"><thead><tr><th>s</th><th>event</th><th>what</th></tr></thead><tbody>${timeline.map(
          (e) =>
            html`<tr><td class="n">${e.time.toFixed(3)}</td><td>${e.kind}</td><td><a href="#${anchorOf(e.pointer)}"><code>${e.text}</code></a></td></tr>`,
        )}</tbody></table>`
  }
<h3>Network captures</h3>${phase.connections.length === 0 ? html`<p class="empty">(no connections)</p>` : phase.connections.map((c, i) => _connection(c, i, name))}
<h3>DNS queries</h3>${
    phase.dns.length === 0
      ? html`<p class="empty">(none)</p>`
      : html`<table><thead><tr><th>name</th><th>type</th><th>answer</th><th>server</th><th>by</th></tr></thead><tbody>${phase.dns.map(
          (d, i) =>
            html`<tr id="${anchorOf(`/phases/${name}/dns/${i}`)}"><td><code>${d.name}</code></td><td>${d.type}</td><td>${d.answer ?? ''}</td><td>${d.server ?? ''}</td><td>${_by(d.by)}</td></tr>`,
        )}</tbody></table>`
  }
<h3>Files touched</h3>${
    phase.files.length === 0
      ? html`<p class="empty">(none outside the noise areas)</p>`
      : html`<table class="files"><thead><tr><th>path</th><th>ops</th><th>count</th><th>failed</th><th>by</th></tr></thead><tbody>${phase.files.map(
          (f, i) =>
            html`<tr id="${anchorOf(`/phases/${name}/files/${i}`)}"><td><code class="path">${f.path}</code></td><td>${f.ops.join(', ')}</td><td class="n">${f.count}</td><td class="n">${f.failed}</td><td>${_by(f.by)}</td></tr>`,
        )}</tbody></table>`
  }${
    phase.file_summary.length > 0
      ? html`<p><small>noise areas: ${phase.file_summary.map((s) => `${s.area} ${s.count} (${s.writes} writes)`).join(' · ')}</small></p>`
      : ''
  }
<h3>Canary hits</h3>${
    phase.canaries.length === 0
      ? html`<p class="empty">(none)</p>`
      : html`<table class="canaries"><thead><tr><th>canary</th><th>how</th><th>evidence</th><th>by</th></tr></thead><tbody>${phase.canaries.map(
          (c, i) =>
            html`<tr id="${anchorOf(`/phases/${name}/canaries/${i}`)}"><td>${c.canary}</td><td>${c.how}</td><td><code>${c.evidence}</code></td><td>${_by(c.by)}</td></tr>`,
        )}</tbody></table>`
  }
<details><summary>output tails</summary><h4>stdout</h4><pre>${phase.stdout_tail}</pre><h4>stderr</h4><pre>${phase.stderr_tail}</pre></details>
</section>`;
}

function _diff(diff: RecordDiff | null, record: BehaviourRecord): SafeHtml {
  if (diff === null) {
    const stored = record.diff_from_previous;
    if (stored === undefined)
      return html`<p class="empty">No earlier release of this project was analysed.</p>`;
    return html`<p>Compared with ${stored.version ?? '?'} (stored with the record):</p><ul>
<li>new hosts: <code>${stored.new_hosts.join(', ') || '-'}</code></li><li>new DNS names: <code>${stored.new_dns.join(', ') || '-'}</code></li>
<li>new commands: <code>${stored.new_commands.join(', ') || '-'}</code></li><li>new file writes: <code>${stored.new_file_writes.join(', ') || '-'}</code></li></ul>`;
  }
  const kinds = [
    ['hosts', 'hosts'],
    ['dns', 'DNS names'],
    ['commands', 'commands'],
    ['file_writes', 'file writes'],
  ] as const;
  return html`<p>What ${diff.to ?? '?'} does that ${diff.from ?? '?'} did not, and what went away:</p>
<table class="diff"><thead><tr><th>kind</th><th>new</th><th>gone</th></tr></thead><tbody>${kinds.map(
    ([k, label]) =>
      html`<tr><td>${label}</td><td>${diff.new[k].map((i) => html`<code>${i.example}</code> ${_by(i.by)}<br>`)}</td><td>${diff.gone[
        k
      ].map((i) => html`<code>${i.example}</code><br>`)}</td></tr>`,
  )}</tbody></table>`;
}

export function renderPackagePage(data: PackagePageData): string {
  const { record } = data;
  const v = record.verdict;
  const base = packageHref(data.project, data.version);
  const findings =
    v === undefined || v.findings.length === 0
      ? html`<p class="empty">(no findings)</p>`
      : html`<ul class="findings">${v.findings.map(
          (
            f,
          ) => html`<li class="finding"><strong class="sev sev-${f.severity}">${f.severity}</strong> ${f.title} <code class="rule">${f.rule}</code>
<small>${f.phase}${f.attack ? ` · ATT&CK ${f.attack}` : ''} · +${f.points}${f.culprit ? ` · ${f.culprit.kind}${f.culprit.distribution ? `:${f.culprit.distribution}` : ''}` : ''}</small>
${f.dismissed ? html`<br><small class="dismissed">dismissed: ${f.dismissed}</small>` : ''}${f.population ? html`<br><small class="population">population: ${f.population}</small>` : ''}
${decisionForm({ project: data.project, version: data.version, rule: f.rule }, data.triageEnabled)}
<ul class="evidence">${f.evidence.map(
            (e) =>
              html`<li>${e.pointer.startsWith('/') ? html`<a href="#${anchorOf(e.pointer)}"><code>${e.pointer}</code></a>` : html`<code>${e.pointer}</code>`} <code class="evidence-text">${e.text}</code></li>`,
          )}</ul></li>`,
        )}</ul>`;
  const history = data.decisions.length
    ? html`<table class="decisions"><thead><tr><th>when</th><th>about</th><th>decision</th></tr></thead><tbody>${data.decisions.map(
        (d) =>
          html`<tr><td>${d.decidedAt.slice(0, 19).replace('T', ' ')}</td><td>${d.rule ?? 'the release'}</td><td>${decisionText(d)}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="empty">No decision yet.</p>`;
  const draft =
    data.draft === null
      ? html``
      : reportDraftSection(data.draft, { project: data.project, version: data.version });
  const releaseDecision = data.decisions.find((d) => d.rule === null) ?? null;
  const body = html`<p class="meta">${levelBadge(v?.level ?? null)} score ${v?.score ?? '-'} ·
analysed ${record.finished_at.slice(0, 19).replace('T', ' ')} UTC · tracer ${record.sandbox.tracer}${
    record.package.artifact
      ? html` · <code>${record.package.artifact.filename}</code> sha256 <code>${record.package.artifact.sha256}</code>`
      : ''
  }</p>
<p>Downloads: <span id="downloads" class="downloads downloads-${data.downloads.known ? 'known' : 'unknown'}">${downloadsText(data.downloads)}</span></p>
<p><a href="/api/packages/${encodeURIComponent(data.project)}/${encodeURIComponent(data.version)}/record.json" download>export the record as JSON</a> ·
<a href="${base}">permalink</a>${data.draft === null ? '' : html` · <a id="report-draft-link" href="${base}/report-draft">open the report draft</a>`}</p>
<section><h2>Triage</h2>${tokenBox(data.triageEnabled)}
<p>Release: <span class="current-decision">${decisionText(releaseDecision)}</span></p>
${decisionForm({ project: data.project, version: data.version }, data.triageEnabled)}${history}</section>
${draft}
<section><h2>Verdict and findings</h2>${findings}</section>
<section><h2>Diff against the previous release</h2>${_diff(data.diff, record)}</section>
${record.phases.install ? _phase('install', record.phases.install) : ''}
${record.phases.import ? _phase('import', record.phases.import) : ''}`;
  return layout({
    title: `${data.project} ${data.version}`,
    section: 'package',
    triageEnabled: data.triageEnabled,
    body,
  });
}
