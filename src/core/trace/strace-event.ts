/**
 * Events parsed from `strace -f -ttt -o FILE` output. Produced by this project's own parser (not an
 * outside boundary), so they are plain TypeScript types rather than zod schemas.
 */

/** A decoded strace string literal. `raw` keeps the escaped text so callers can recover the bytes. */
export interface StraceString {
  kind: 'string';
  value: string;
  raw: string;
  /** strace cut the string at its -s limit (printed as `"abc"...`). */
  truncated: boolean;
  /** An abstract unix socket name, printed as `@"name"`. */
  abstract: boolean;
}

export interface StraceArray {
  kind: 'array';
  items: StraceValue[];
  /** The array ended with `...` (more elements than strace prints). */
  truncated: boolean;
}

export interface StraceStruct {
  kind: 'struct';
  items: StraceValue[];
  truncated: boolean;
}

/** `htons(80)`, `inet_addr("1.2.3.4")`, `inet_pton(AF_INET6, "::1", &sin6_addr)`. */
export interface StraceCall {
  kind: 'call';
  name: string;
  args: StraceValue[];
}

/** `name=value` in a struct or an argument list (clone(child_stack=NULL, flags=...)). */
export interface StraceField {
  kind: 'field';
  name: string;
  value: StraceValue;
}

/** Anything else: numbers, flags (`O_RDONLY|O_CLOEXEC`), `AT_FDCWD`, `NULL`, pointers with comments. */
export interface StraceRaw {
  kind: 'raw';
  text: string;
}

export type StraceValue = StraceString | StraceArray | StraceStruct | StraceCall | StraceField | StraceRaw;

export interface StraceResult {
  /** Numeric return value; null for `?`. */
  value: number | null;
  /** Error name for failed calls (`ENOENT`), else null. */
  error: string | null;
  /** The text after `=`, as printed. */
  text: string;
}

interface EventBase {
  pid: number;
  /** Epoch seconds (strace -ttt). */
  time: number;
}

export interface SyscallEvent extends EventBase {
  type: 'syscall';
  name: string;
  args: StraceValue[];
  /** null when the call never returned (the process died while it was unfinished). */
  result: StraceResult | null;
}

/** `NAME(args <unfinished ...>`: only produced by parseStraceLine; the joiner completes it. */
export interface UnfinishedEvent extends EventBase {
  type: 'unfinished';
  name: string;
  /** The line text from the syscall name up to ` <unfinished ...>`. */
  head: string;
}

/** `<... NAME resumed>REST`: only produced by parseStraceLine; the joiner completes it. */
export interface ResumedEvent extends EventBase {
  type: 'resumed';
  name: string;
  tail: string;
}

export interface SignalEvent extends EventBase {
  type: 'signal';
  signal: string;
  detail: string;
}

export interface ExitEvent extends EventBase {
  type: 'exit';
  code: number;
}

export interface KilledEvent extends EventBase {
  type: 'killed';
  signal: string;
  coreDumped: boolean;
}

/** Well-formed lines of no interest to the record (`+++ superseded ...`, `--- stopped by ...`). */
export interface NoteEvent extends EventBase {
  type: 'note';
  text: string;
}

export type StraceEvent =
  | SyscallEvent
  | UnfinishedEvent
  | ResumedEvent
  | SignalEvent
  | ExitEvent
  | KilledEvent
  | NoteEvent;

/** A complete event, after unfinished/resumed pairs have been joined. */
export type JoinedStraceEvent = Exclude<StraceEvent, UnfinishedEvent | ResumedEvent>;

export interface StraceParseFailure {
  type: 'unparsed';
  line: string;
  reason: string;
}
