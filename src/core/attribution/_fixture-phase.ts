import { readFileSync } from 'node:fs';
import { CaptureEvent } from '../net/capture-event.ts';
import { toConnection } from '../net/to-connection.ts';
import { toDnsQuery } from '../net/to-dns-query.ts';
import { emptyPhase } from '../record/empty-phase.ts';
import {
  type ModuleImport,
  ModuleImport as ModuleSchema,
  type Phase,
  type PhaseName,
} from '../record/schema.ts';
import { SANDBOX_LAYOUT } from '../sandbox/layout.ts';
import { buildBehaviour } from '../trace/build-behaviour.ts';
import type { TraceBehaviour } from '../trace/trace-behaviour.ts';

/**
 * Test helper: a recorded phase of fixtures/ (real traces of `analyze` on the ph-test-dep-*
 * fixtures, reduced with reduceTrace; the sinkhole's events beside them) turned into a Phase and
 * its TraceBehaviour, the way src/app/assemble-phase.ts does it.
 */
export function fixturePhase(
  name: 'evil-top' | 'benign-top',
  phaseName: PhaseName,
): { phase: Phase; behaviour: TraceBehaviour; modules: ModuleImport[] } {
  const read = (file: string) => readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'latin1');
  const lines = read(`${name}-${phaseName}.strace`).split('\n');
  const startTime = Number(lines[0]?.split(/\s+/)[1]);
  const behaviour = buildBehaviour(lines, {
    runnerPath: SANDBOX_LAYOUT.runner,
    initialCwd: SANDBOX_LAYOUT.workdir,
    startTime,
    noiseAreas: [{ area: 'venv', prefixes: ['/opt/venv/', '/tmp/pip-', '/usr/'], kinds: 'all' }],
  });
  const timed = lines.filter((l) => l.trim() !== '');
  const end = Number(timed[timed.length - 1]?.split(/\s+/)[1]);
  const events = read(`${name}-capture.ndjson`)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => CaptureEvent.parse(JSON.parse(l)))
    .filter((e) => 'time' in e && e.time >= startTime && e.time <= end);
  const modules =
    phaseName === 'import'
      ? ModuleSchema.array().parse(JSON.parse(read(`${name}-modules.json`)).modules)
      : [];
  const phase = emptyPhase({
    commands: behaviour.commands,
    files: behaviour.files,
    dns: events.flatMap((e) => (e.type === 'dns' ? [toDnsQuery(e, startTime * 1000)] : [])),
    connections: events.flatMap((e) =>
      e.type === 'tcp' || e.type === 'udp' ? [toConnection(e, startTime * 1000)] : [],
    ),
    modules,
  });
  return { phase, behaviour, modules };
}
