import { z } from 'zod';
import { Ecosystem } from '../ecosystem.ts';
import type { BehaviourRecord } from '../record/schema.ts';

export const AlertLevel = z.enum(['suspicious', 'malicious']);
export type AlertLevel = z.infer<typeof AlertLevel>;

/** What an alert says, kept in the outbox as JSON and rendered per destination kind when sent. */
export const Alert = z.object({
  /** (project, version, level): one alert each, whatever happens. */
  key: z.string(),
  /** Absent in alerts queued before npm was watched: PyPI. */
  ecosystem: Ecosystem.optional(),
  project: z.string(),
  version: z.string(),
  level: AlertLevel,
  score: z.number(),
  findings: z.array(
    z.object({
      rule: z.string(),
      severity: z.string(),
      title: z.string(),
      phase: z.string(),
      evidence: z.array(z.object({ pointer: z.string(), text: z.string() })),
    }),
  ),
  /** The dashboard's page of the release, when a dashboard URL is configured. */
  url: z.string().nullable(),
  /** Downloads over the last 30 days, when a provider knows them. */
  downloads: z.number().int().nonnegative().nullable(),
  analysedAt: z.string(),
});
export type Alert = z.infer<typeof Alert>;

const TOP_FINDINGS = 5;
const EVIDENCE_PER_FINDING = 3;
const EVIDENCE_CHARS = 300;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The key of an alert: the same release at the same level is one alert, on every run. npm keys
 * carry their ecosystem (`npm:NAME@VERSION:level`) so that a PyPI project of the same name has its own.
 */
export function alertKey(
  project: string,
  version: string,
  level: AlertLevel,
  ecosystem: Ecosystem = 'pypi',
): string {
  return ecosystem === 'npm' ? `npm:${project}@${version}:${level}` : `${project}==${version}:${level}`;
}

/** How an alert names its release: `NAME==VERSION` (PyPI) or `npm:NAME@VERSION`. */
export function alertRelease(alert: Pick<Alert, 'project' | 'version' | 'ecosystem'>): string {
  return alert.ecosystem === 'npm'
    ? `npm:${alert.project}@${alert.version}`
    : `${alert.project}==${alert.version}`;
}

/** The dashboard page of a release: `<dashboard-url>/package/NAME/VERSION`. */
export function dashboardLink(dashboardUrl: string | null, project: string, version: string): string | null {
  if (dashboardUrl === null) return null;
  const base = dashboardUrl.endsWith('/') ? dashboardUrl : `${dashboardUrl}/`;
  return new URL(`package/${encodeURIComponent(project)}/${encodeURIComponent(version)}`, base).href;
}

/** The alert for a record judged suspicious or malicious; null for a clean one or no verdict. */
export function buildAlert(
  record: BehaviourRecord,
  options: {
    project: string;
    version: string;
    ecosystem?: Ecosystem;
    dashboardUrl: string | null;
    downloads: number | null;
  },
): Alert | null {
  const verdict = record.verdict;
  if (verdict === undefined || verdict.level === 'clean') return null;
  const findings = [...verdict.findings]
    .sort((a, b) => b.points - a.points)
    .slice(0, TOP_FINDINGS)
    .map((f) => ({
      rule: f.rule,
      severity: f.severity,
      title: clip(f.title, 200),
      phase: f.phase,
      evidence: f.evidence.slice(0, EVIDENCE_PER_FINDING).map((e) => ({
        pointer: clip(e.pointer, 200),
        text: clip(e.text, EVIDENCE_CHARS),
      })),
    }));
  const ecosystem = options.ecosystem ?? 'pypi';
  return {
    key: alertKey(options.project, options.version, verdict.level, ecosystem),
    ecosystem,
    project: options.project,
    version: options.version,
    level: verdict.level,
    score: verdict.score,
    findings,
    // The dashboard's package pages are PyPI's (keyed by name): no link for npm releases yet.
    url: ecosystem === 'npm' ? null : dashboardLink(options.dashboardUrl, options.project, options.version),
    downloads: options.downloads,
    analysedAt: record.finished_at,
  };
}

/** The generic JSON webhook body: the alert itself under a versioned envelope. */
export function genericPayload(alert: Alert): Record<string, unknown> {
  return { type: 'pkghunt.alert', version: 1, alert };
}

/**
 * Text a package controls, made inert for Slack mrkdwn: `&`, `<`, `>` escaped (so `<!channel>`,
 * `<@U123>` and `<http://x|click>` stay literal text), backticks replaced (they would end the code
 * span), and wrapped in a code span, which Slack neither links nor formats.
 */
export function slackInert(text: string): string {
  const escaped = text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/`/g, 'ˋ')
    .replace(/[\r\n]+/g, ' ');
  return `\`${escaped.length === 0 ? ' ' : escaped}\``;
}

/** A Slack-compatible incoming-webhook body (text fallback plus blocks). */
export function slackPayload(alert: Alert): Record<string, unknown> {
  const title = `${alert.level === 'malicious' ? ':rotating_light: MALICIOUS' : ':warning: SUSPICIOUS'} ${slackInert(alertRelease(alert))} (score ${alert.score})`;
  const lines = alert.findings.map((f) => {
    const evidence = f.evidence.map((e) => `    ${slackInert(e.pointer)} ${slackInert(e.text)}`).join('\n');
    return `• ${slackInert(f.rule)} (${slackInert(f.severity)}, ${slackInert(f.phase)}): ${slackInert(f.title)}${evidence ? `\n${evidence}` : ''}`;
  });
  const context = [
    alert.downloads === null ? 'downloads: unknown' : `downloads (30 days): ${alert.downloads}`,
    alert.url === null ? null : `<${alert.url.replace(/[<>|]/g, encodeURIComponent)}|dashboard>`,
  ].filter((s): s is string => s !== null);
  return {
    text: `pkghunt: ${alert.level} ${alertRelease(alert).replace(/[<>&]/g, '')}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: title } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) || 'no findings' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] },
    ],
  };
}
