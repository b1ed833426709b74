import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunSample, ThroughputRaw } from './hunt-raw.ts';
import { bytesPerPackage } from './hunt-storage.ts';
import {
  cpuPerPackage,
  fastestTracer,
  medianThroughput,
  renderStageBreakdown,
  renderThroughput,
} from './hunt-throughput-report.ts';

function sample(variant: string, workers: number, wallS: number, extra: Partial<RunSample> = {}): RunSample {
  return {
    variant,
    workers,
    round: 1,
    packages: 4,
    done: 4,
    failed: [],
    wallS,
    jobsS: null,
    cpuS: 8,
    load: '0.50 0.40 0.30',
    stored: [],
    storeDiskBytes: null,
    note: null,
    ...extra,
  };
}

function raw(samples: RunSample[]): ThroughputRaw {
  return {
    command: 'test',
    date: '2026-01-01 00:00 UTC',
    machine: '2 CPUs (test), 1.0 GiB RAM',
    rounds: 1,
    packages: [{ name: 'six', file: 'six.whl', why: 'test' }],
    variants: ['bare', 'hunt-strace', 'hunt-none'],
    tracersMissing: ['bpftrace'],
    samples,
    loadBefore: '0 0 0',
    loadAfter: '0 0 0',
    recompressed: [],
    profiles: [],
  };
}

test('the throughput section judges hunt against bare and 2 workers against 1 from the medians', () => {
  const r = raw([
    sample('bare', 1, 4), // 60/min
    sample('bare', 2, 2.5),
    sample('hunt-strace', 1, 8), // 30/min: 50% of bare
    sample('hunt-strace', 2, 4.4), // 54.5/min: 1.82x one worker
    sample('hunt-none', 1, 6),
    sample('hunt-none', 2, 3.5),
  ]);
  assert.equal(medianThroughput(r, 'hunt-strace', 1), 30);
  assert.equal(cpuPerPackage(sample('bare', 1, 4)), 2);
  const text = renderThroughput(r);
  assert.match(text, /^## Hunt throughput\n/);
  assert.match(text, /1 worker: 50%, \*\*missed\*\*/);
  assert.match(text, /one worker: 1\.82x, \*\*met\*\*/);
  assert.match(text, /`--tracer bpftrace` is not offered/);
});

test('a run with packages not done counts them as not done and lists them', () => {
  const text = renderThroughput(
    raw([
      sample('bare', 1, 4),
      sample('hunt-strace', 1, 4, { done: 2, failed: ['idna (failed)', 'six (not run)'] }),
    ]),
  );
  assert.match(text, /hunt-strace x1, round 1: idna \(failed\), six \(not run\)/);
  assert.match(text, /1 worker: 50%/);
});

test('bytes per package take each package once (median of its traced runs) and ignore untraced runs', () => {
  const row = (project: string, recordBytes: number, traceBytes: number) => ({
    project,
    version: '1',
    recordBytes,
    traceBytes,
    rawTraceBytes: traceBytes * 20,
    traceSha256: [],
  });
  const r = raw([
    sample('hunt-strace', 1, 4, { stored: [row('six', 1000, 5000), row('idna', 2000, 9000)] }),
    sample('hunt-strace', 2, 4, { stored: [row('six', 1000, 7000)] }),
    sample('hunt-strace', 2, 4, { stored: [row('six', 1000, 6000)] }),
    sample('hunt-none', 1, 4, { stored: [row('six', 900, 0)] }),
  ]);
  const pkgs = bytesPerPackage(r);
  assert.deepEqual(
    pkgs.map((p) => [p.project, p.record, p.trace, p.total]),
    [
      ['six', 1000, 6000, 7000],
      ['idna', 2000, 9000, 11000],
    ],
  );
});

test('the stage breakdown shows the mean per package of each stage, in the order of a job', () => {
  const profile = {
    tracer: 'bpftrace',
    workers: 1,
    stages: [
      { project: 'a', stage: 'install:pip', ms: 1000 },
      { project: 'b', stage: 'install:pip', ms: 3000 },
      { project: 'a', stage: 'netns-create', ms: 80 },
      { project: 'b', stage: 'netns-create', ms: 0 },
      { project: 'a', stage: 'something-new', ms: 10 },
    ],
    jobs: [
      { project: 'a', ms: 2000 },
      { project: 'b', ms: 4000 },
    ],
    wallMs: 7000,
    startToFirstJobMs: 300,
    nodeCpuMs: 1500,
    load: '1.00 1.00 1.00',
  };
  const text = renderStageBreakdown([profile, { ...profile, workers: 2, stages: [] }]).join('\n');
  assert.match(text, /### Where a job's time goes/);
  assert.match(text, /\| netns-create \| [^|]+ \| 40 \| — \|/);
  assert.match(text, /\| install:pip \| [^|]+ \| 2000 \| — \|/);
  // Unknown stages still show, after the known ones; the job's mean and the per-command costs too.
  assert.ok(text.indexOf('install:pip') < text.indexOf('something-new'));
  assert.match(text, /\| job \| job-start to job-end \| 3000 \| 3000 \|/);
  assert.match(text, /to the first job \| [^|]+ \| 300 \| 300 \|/);
  assert.deepEqual(renderStageBreakdown([]), []);
});

test('the targets are judged on the tracer that was fastest with 2 workers, and the other is listed', () => {
  const r = {
    ...raw([
      sample('bare', 1, 4),
      sample('bare', 2, 2.5),
      sample('hunt-bpftrace', 1, 7),
      sample('hunt-bpftrace', 2, 5),
      sample('hunt-strace', 1, 8),
      sample('hunt-strace', 2, 4),
      sample('hunt-none', 1, 6),
      sample('hunt-none', 2, 3.5),
    ]),
    variants: ['bare', 'hunt-bpftrace', 'hunt-strace', 'hunt-none'],
    tracersMissing: [],
  };
  assert.equal(fastestTracer(r), 'hunt-strace');
  const text = renderThroughput(r);
  assert.match(text, /fastest in this run \(`--tracer strace`/);
  assert.match(
    text,
    /- With `--tracer bpftrace`: 57% of bare with 1 worker, 50% with 2, and 1\.40x from 1 to 2\./,
  );
});

test('bare pip started like the runner gives the like-for-like ratio; the targets stay against plain bare', () => {
  const r = {
    ...raw([
      sample('bare', 1, 4), // 60/min
      sample('bare', 2, 2.5),
      sample('bare-runner', 1, 3), // 80/min
      sample('bare-runner', 2, 2),
      sample('hunt-strace', 1, 5), // 48/min: 80% of bare, 60% of bare-runner
      sample('hunt-strace', 2, 2.5),
    ]),
    variants: ['bare', 'bare-runner', 'hunt-strace'],
  };
  const text = renderThroughput(r);
  assert.match(text, /1 worker: 80%, \*\*met\*\*/);
  assert.match(
    text,
    /Like for like \(against bare pip started as the runner starts it[^)]*\): 60% with 1 worker, 80% with 2/,
  );
  assert.match(
    text,
    /\| bare pip, started as the hunt's runner starts it \| 1 \| 1\/1 \|[^\n]*\| — \|[^\n]*\| 133% \|/,
  );
});
