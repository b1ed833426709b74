import { openSqliteStore } from '../../src/adapters/store/sqlite-store.ts';
import type { Store } from '../../src/adapters/store/store.ts';
import { recordFacts } from '../../src/core/behaviour/record-facts.ts';
import type { BehaviourRecord, Verdict } from '../../src/core/record/schema.ts';
import { makeRecord } from '../store/make-record.ts';

export const XSS_ARGV = ['echo', '<script>window.__xss=1</script>', '<img src=x onerror=window.__xss=2>'];
export const XSS_PATH = '/home/builder/<b>xss-file<i>.txt';
/** An HTTP request with a script in its path, then binary bytes (as the sinkhole's preview escapes them). */
export const XSS_PREVIEW =
  'POST /<script>window.__xss=3</script> HTTP/1.1\\x0a\\x0a\\x00\\x01\\xff\\xfe<>\\\\';

function verdict(level: Verdict['level'], score: number, findings: Verdict['findings']): Verdict {
  return { level, score, findings, static_files: 0, population_adjusted: false };
}

/** A hostile release: argv, a file name and sent bytes full of markup; suspicious by two rules. */
export function hostileRecord(): BehaviourRecord {
  const record = makeRecord('ph-evil', '1.0.0', {
    commands: [
      { argv: ['/bin/sh', '-c', 'x'], cwd: '/tmp', pid: 10, ppid: 1, time: 0.1, exe: '/bin/sh' },
      { argv: XSS_ARGV, cwd: '/tmp', pid: 11, ppid: 10, time: 0.2, exe: '/bin/echo' },
    ],
    files: [
      { path: XSS_PATH, ops: ['write', 'create'], flags: [], count: 1, failed: 0, errors: [], pids: [11] },
    ],
    dns: [{ name: 'evil.example', type: 'A', time: 0.3, answer: '127.53.0.1', server: '127.0.0.1:53' }],
    connections: [
      {
        protocol: 'tcp',
        ip: '127.53.0.1',
        port: 8080,
        hostname: 'evil.example',
        sent_bytes: 50,
        sent_preview: XSS_PREVIEW,
        http: { method: 'POST', host: 'evil.example', path: '/<script>window.__xss=3</script>' },
        tls_sni: null,
        time: 0.4,
        pids: [11],
      },
    ],
  });
  record.verdict = verdict('suspicious', 45, [
    {
      rule: 'exec.shell',
      severity: 'medium',
      title: 'runs a shell <i>command</i>',
      attack: null,
      phase: 'install',
      culprit: null,
      evidence: [{ pointer: '/phases/install/commands/1', text: XSS_ARGV.join(' ') }],
      points: 20,
    },
    {
      rule: 'net.outbound',
      severity: 'medium',
      title: 'contacts the network',
      attack: 'T1071',
      phase: 'install',
      culprit: null,
      evidence: [{ pointer: '/phases/install/connections/0', text: 'tcp evil.example:8080' }],
      points: 25,
    },
  ]);
  return record;
}

export function maliciousRecord(version: string, host: string): BehaviourRecord {
  const record = makeRecord('ph-thief', version, {
    connections: [
      {
        protocol: 'tcp',
        ip: '127.53.0.2',
        port: 443,
        hostname: host,
        sent_bytes: 4,
        sent_preview: 'ping',
        http: null,
        tls_sni: null,
        time: 1,
        pids: [5],
      },
    ],
  });
  record.finished_at = `2024-01-0${version === '1.0' ? 1 : 2}T00:00:01.000Z`;
  record.verdict = verdict('malicious', 90, [
    {
      rule: 'net.outbound',
      severity: 'high',
      title: 'contacts the network',
      attack: 'T1071',
      phase: 'install',
      culprit: null,
      evidence: [{ pointer: '/phases/install/connections/0', text: host }],
      points: 90,
    },
  ]);
  return record;
}

export function cleanRecord(name: string): BehaviourRecord {
  const record = makeRecord(name, '2.0');
  record.verdict = verdict('clean', 0, []);
  return record;
}

/** Stores a record through the job queue, as a hunt does. */
export async function storeRecord(store: Store, record: BehaviourRecord): Promise<void> {
  const version = record.package.version ?? '0';
  await store.enqueue([{ project: record.package.name, version }], { maxAttempts: 1 });
  for (;;) {
    const job = await store.claim('test', { leaseMs: 60_000 });
    if (job === null) throw new Error('no job to claim');
    await store.complete(job.id, 'test', { record, facts: recordFacts(record), traces: [] });
    if (job.project === record.package.name && job.version === version) return;
  }
}

export async function fillStore(path: string): Promise<void> {
  const store = openSqliteStore(path);
  await store.migrate();
  await storeRecord(store, cleanRecord('ph-quiet'));
  await storeRecord(store, hostileRecord());
  await storeRecord(store, maliciousRecord('1.0', 'old.example'));
  await storeRecord(store, maliciousRecord('2.0', 'new-collector.example'));
  await store.close();
}
