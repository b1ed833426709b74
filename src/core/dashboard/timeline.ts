import type { Phase } from '../record/schema.ts';

export interface TimelineEvent {
  /** Seconds since the phase started. */
  time: number;
  kind: 'command' | 'dns' | 'connection';
  text: string;
  pointer: string;
}

/** A phase's timed events (commands, DNS queries, connections) in time order. Plain text: escape to show. */
export function phaseTimeline(phaseName: string, phase: Phase): TimelineEvent[] {
  const events: TimelineEvent[] = [];
  phase.commands.forEach((c, i) => {
    events.push({
      time: c.time,
      kind: 'command',
      text: c.argv.join(' '),
      pointer: `/phases/${phaseName}/commands/${i}`,
    });
  });
  phase.dns.forEach((d, i) => {
    events.push({
      time: d.time,
      kind: 'dns',
      text: `${d.type} ${d.name}${d.answer ? ` -> ${d.answer}` : ''}`,
      pointer: `/phases/${phaseName}/dns/${i}`,
    });
  });
  phase.connections.forEach((c, i) => {
    events.push({
      time: c.time,
      kind: 'connection',
      text: `${c.protocol} ${c.hostname ?? c.ip}:${c.port} (${c.sent_bytes} bytes sent)`,
      pointer: `/phases/${phaseName}/connections/${i}`,
    });
  });
  return events.sort((a, b) => a.time - b.time);
}
