import type { DnsQuery } from '../record/schema.ts';
import type { DnsEvent } from './capture-event.ts';
import { relativeSeconds } from './to-connection.ts';

/** Turns a fake-resolver event into the record's DnsQuery; `phaseStartedAt` is Unix ms. */
export function toDnsQuery(event: DnsEvent, phaseStartedAt: number): DnsQuery {
  return {
    name: event.name,
    type: event.qtype,
    time: relativeSeconds(event.time, phaseStartedAt),
    answer: event.answer,
    server: event.server,
  };
}
