import { parseStraceArgs } from './parse-strace-args.ts';
import type { StraceEvent, StraceParseFailure, StraceResult, SyscallEvent } from './strace-event.ts';

const LINE = /^(\d+)\s+(\d+(?:\.\d+)?)\s+(.*)$/;
const EXITED = /^\+\+\+ exited with (\d+) \+\+\+$/;
const KILLED = /^\+\+\+ killed by (SIG[A-Z0-9+-]+|\d+)( \(core dumped\))? \+\+\+$/;
const SIGNAL = /^--- (SIG[A-Z0-9+-]+|\d+) (.*) ---$/;
const RESUMED = /^<\.\.\. ([A-Za-z0-9_]+) resumed>(.*)$/;
const UNFINISHED_SUFFIX = ' <unfinished ...>';
const SYSCALL_NAME = /^([A-Za-z0-9_]+)\(/;
const RESULT = /^=\s*(-?\d+|0x[0-9a-fA-F]+|\?)(?:\s+(E[A-Z0-9]+)\b)?(.*)$/;

/**
 * Parses one line of `strace -f -ttt` output. Never throws: garbage comes back as a typed failure
 * the caller can count. Unfinished/resumed halves come back as such; see StraceLineJoiner.
 */
export function parseStraceLine(line: string): StraceEvent | StraceParseFailure {
  const m = LINE.exec(line.trimEnd());
  if (!m?.[1] || !m[2] || m[3] === undefined) return fail(line, 'no pid and timestamp prefix');
  const pid = Number(m[1]);
  const time = Number(m[2]);
  const rest = m[3];

  if (rest.startsWith('+++')) {
    const exited = EXITED.exec(rest);
    if (exited) return { type: 'exit', pid, time, code: Number(exited[1]) };
    const killed = KILLED.exec(rest);
    if (killed?.[1])
      return { type: 'killed', pid, time, signal: killed[1], coreDumped: killed[2] !== undefined };
    if (rest.endsWith('+++')) return { type: 'note', pid, time, text: rest };
    return fail(line, 'unterminated +++ line');
  }
  if (rest.startsWith('---')) {
    if (rest.startsWith('--- stopped by') || rest.startsWith('--- resumed'))
      return { type: 'note', pid, time, text: rest };
    const sig = SIGNAL.exec(rest);
    if (sig?.[1]) return { type: 'signal', pid, time, signal: sig[1], detail: sig[2] ?? '' };
    return fail(line, 'malformed signal line');
  }
  const resumed = RESUMED.exec(rest);
  if (resumed?.[1]) return { type: 'resumed', pid, time, name: resumed[1], tail: resumed[2] ?? '' };

  const name = SYSCALL_NAME.exec(rest)?.[1];
  if (!name) return fail(line, 'not a syscall, signal or exit line');
  if (rest.endsWith(UNFINISHED_SUFFIX)) {
    return { type: 'unfinished', pid, time, name, head: rest.slice(0, -UNFINISHED_SUFFIX.length) };
  }
  return parseSyscallText(rest, { pid, time, line });
}

/** Parses `name(args) = result` (a whole line, or an unfinished head joined with its resumed tail). */
export function parseSyscallText(
  text: string,
  context: { pid: number; time: number; line: string },
): SyscallEvent | StraceParseFailure {
  const name = SYSCALL_NAME.exec(text)?.[1];
  if (!name) return fail(context.line, 'no syscall name');
  const { args, end } = parseStraceArgs(text, name.length + 1);
  if (end < 0) return fail(context.line, `unbalanced argument list of ${name}`);
  const after = text.slice(end).trim();
  // `exit_group(0) = ?` and friends have a result; a bare `)` with nothing after means a cut line.
  const result = parseResult(after);
  if (!result) return fail(context.line, `no return value for ${name}`);
  return { type: 'syscall', pid: context.pid, time: context.time, name, args, result };
}

const PIDNS_TRANSLATION = /\/\* (\d+) in strace's PID NS \*\//;

function parseResult(text: string): StraceResult | null {
  const m = RESULT.exec(text);
  if (!m?.[1]) return null;
  const token = m[1];
  let value: number | null = null;
  if (token !== '?') value = token.startsWith('0x') ? Number.parseInt(token, 16) : Number(token);
  // With --pidns-translation a pid returned inside the sandbox's pid namespace (clone, fork)
  // carries its host value: `= 2 /* 4002 in strace's PID NS */`. The host value is what line
  // prefixes use, so it is the one that links parent and child.
  const translated = PIDNS_TRANSLATION.exec(text);
  if (translated?.[1]) value = Number(translated[1]);
  return { value, error: m[2] ?? null, text: text.slice(1).trim() };
}

function fail(line: string, reason: string): StraceParseFailure {
  return { type: 'unparsed', line, reason };
}
