import type { Command } from 'commander';
import { openResultStore } from '../../app/open-store.ts';
import { studyReport } from '../../app/study-report.ts';
import { loadConfig } from '../../config.ts';
import type { Ecosystem } from '../../core/ecosystem.ts';
import { toPkghuntError } from '../../core/errors.ts';
import { renderReportHtml } from '../../core/report/render-report-html.ts';
import type { BehaviourRow, CountPair, StudyReport } from '../../core/report/study-report.ts';
import { sanitizeForTerminal } from '../../core/summary/render-summary.ts';
import { EXIT } from '../exit-codes.ts';
import { printError, writeFileAtomic } from '../output.ts';
import { positiveInteger } from '../parse-flags.ts';
import { renderTable } from '../render-table.ts';
import { ecosystemOption } from './analysis-options.ts';

interface ReportFlags {
  ecosystem?: Ecosystem;
  db?: string;
  json?: boolean;
  html?: string;
  top: string;
}

function _pair(pair: CountPair): string {
  return `${pair.raw} (own: ${pair.own})`;
}

function _rows(rows: readonly BehaviourRow[], column: string): Record<string, string | number>[] {
  return rows.map((r) => ({ [column]: r.key, packages: r.packages, own: r.packages_own }));
}

/** Evidence lines per finding in the terminal; --json and --html have them all. */
const EVIDENCE_SHOWN = 4;

/** One line of package-controlled text, safe for the terminal. */
function _line(text: string): string {
  return sanitizeForTerminal(text.replace(/[\r\n]+/g, ' '));
}

/** The report as terminal tables. */
function _renderText(report: StudyReport): string {
  const headline = renderTable(
    [
      { question: 'analysed projects (latest analysed release of each)', answer: String(report.packages) },
      {
        question: 'packages that connected out during install',
        answer: _pair(report.connected_during_install.packages),
      },
      { question: 'unique hosts contacted', answer: _pair(report.hosts.unique) },
      { question: 'unique DNS names looked up', answer: _pair(report.dns.unique) },
      { question: 'packages that executed commands', answer: _pair(report.commands.packages) },
      { question: 'suspicious or malicious verdicts', answer: String(report.suspicious.packages) },
    ],
    {
      title:
        "The study's numbers, per project (its latest analysed release), raw and own (own: dependency-, build-dependency- and pip-induced behaviour removed):",
    },
  );
  const connected = renderTable(
    report.connected_during_install.list.map((c) => ({
      package: `${c.package} ${c.version ?? ''}`.trim(),
      own: c.own ? 'yes' : 'no',
      hosts: c.hosts.join(', '),
    })),
    { title: '\nPackages that connected out during install:' },
  );
  const suspicious = report.suspicious.top
    .map((p) => {
      const lines = [`\n  ${_line(`${p.package} ${p.version ?? ''}`)}  ${_line(p.level)}  score ${p.score}`];
      for (const f of p.findings) {
        lines.push(`    [${_line(f.severity)}] ${_line(f.title)} (${_line(f.rule)})`);
        for (const e of f.evidence.slice(0, EVIDENCE_SHOWN)) {
          lines.push(`      ${_line(e.pointer)}: ${_line(e.text.slice(0, 160))}`);
        }
        if (f.evidence.length > EVIDENCE_SHOWN) {
          lines.push(`      ... ${f.evidence.length - EVIDENCE_SHOWN} more (--json or --html for all)`);
        }
      }
      return `${lines.join('\n')}\n`;
    })
    .join('');
  return [
    headline,
    renderTable(_rows(report.hosts.rows, 'host'), { title: '\nHosts contacted, by number of packages:' }),
    renderTable(_rows(report.dns.rows, 'name'), { title: '\nDNS names looked up, by number of packages:' }),
    renderTable(_rows(report.commands.rows, 'command'), { title: '\nMost common commands (shapes):' }),
    connected,
    `\nTop suspicious packages:\n${suspicious || '  (none)\n'}`,
  ].join('');
}

async function runReport(flags: ReportFlags): Promise<number> {
  const json = flags.json === true;
  try {
    const top = positiveInteger(flags.top, '--top') ?? 20;
    const { store, location } = await openResultStore(flags.db, loadConfig());
    try {
      const report = await studyReport(store, {
        top,
        ...(flags.ecosystem !== undefined ? { ecosystem: flags.ecosystem } : {}),
      });
      if (flags.html !== undefined) {
        const html = renderReportHtml(report, { generatedAt: new Date().toISOString(), source: location });
        await writeFileAtomic(flags.html, html);
      }
      if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else process.stdout.write(_renderText(report));
      return EXIT.OK;
    } finally {
      await store.close();
    }
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  }
}

export function registerReport(program: Command, setExit: (code: number) => void): void {
  program
    .command('report')
    .description(
      "The study's numbers over the store, raw and without dependency-induced behaviour, and the top suspicious packages",
    )
    .option(
      '--db <file|url>',
      'SQLite store, or a postgres:// URL (default PKGHUNT_DB or <cache>/pkghunt.db)',
    )
    .option('--json', 'print the report as one JSON object')
    .option('--html <file>', 'also write a self-contained HTML report with charts to FILE')
    .option('--top <n>', 'rows of each ranking (hosts, DNS names, commands, suspicious packages)', '20')
    .addOption(
      ecosystemOption(
        'only this ecosystem (pypi or npm); default: every ecosystem (npm packages shown npm:NAME)',
      ),
    )
    .addHelpText(
      'after',
      `
Counts go per project: the latest analysed release of each (highest version; its latest
result), also when the store was hunted with --all-versions. "own" counts leave out behaviour that
attribution puts on a dependency, a build dependency or pip (behaviour with no attribution
counts as the package's).
Exit codes: 0 report printed, 1 failure, 2 bad usage.`,
    )
    .action(async (flags: ReportFlags) => {
      setExit(await runReport(flags));
    });
}
