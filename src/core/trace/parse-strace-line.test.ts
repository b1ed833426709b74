import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderValue } from './parse-strace-args.ts';
import { parseStraceLine } from './parse-strace-line.ts';
import type { StraceEvent, StraceParseFailure, StraceValue, SyscallEvent } from './strace-event.ts';
import { StraceLineJoiner } from './strace-line-joiner.ts';

function syscall(line: string): SyscallEvent {
  const e = parseStraceLine(line);
  assert.equal(e.type, 'syscall', `expected a syscall from ${line}: ${JSON.stringify(e)}`);
  return e as SyscallEvent;
}

function str(v: StraceValue | undefined): { value: string; truncated: boolean } {
  assert.equal(v?.kind, 'string');
  return v as { value: string; truncated: boolean };
}

test('parses a complete openat with flags, mode and result', () => {
  const e = syscall('6767  1795868029.322229 openat(AT_FDCWD, "x", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3');
  assert.equal(e.pid, 6767);
  assert.equal(e.time, 1795868029.322229);
  assert.equal(e.name, 'openat');
  assert.deepEqual(e.args.map(renderValue), ['AT_FDCWD', '"x"', 'O_WRONLY|O_CREAT|O_TRUNC', '0666']);
  assert.deepEqual(e.result, { value: 3, error: null, text: '3' });
});

test('parses an error return with its message', () => {
  const e = syscall(
    '10 1.5 openat(AT_FDCWD, "/nope", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)',
  );
  assert.equal(e.result?.value, -1);
  assert.equal(e.result?.error, 'ENOENT');
});

test('parses unknown returns (= ? and = ? <unavailable>)', () => {
  assert.equal(syscall('10 1.5 exit_group(0) = ?').result?.value, null);
  const e = syscall('10 1.5 execve("/bin/x", ["x"], 0x1 /* 3 vars */) = ? <unavailable>');
  assert.equal(e.result?.value, null);
  assert.equal(e.result?.error, null);
});

test('decodes escapes: \\n \\t \\" \\\\ octal and hex, UTF-8 when valid', () => {
  const e = syscall('1 1.0 sendto(4, "a\\n\\t\\"\\\\\\1\\x41", 6, 0, NULL, 0) = 6');
  assert.equal(str(e.args[1]).value, 'a\n\t"\\\u0001A');
  const utf = syscall('1 1.0 openat(AT_FDCWD, "/tmp/\\303\\251t\\303\\251", O_RDONLY) = 3');
  assert.equal(str(utf.args[1]).value, '/tmp/été');
  const bad = syscall('1 1.0 openat(AT_FDCWD, "/tmp/\\377x", O_RDONLY) = 3');
  assert.equal(str(bad.args[1]).value, '/tmp/\\xffx');
});

test('marks truncated strings and truncated arrays', () => {
  const e = syscall('1 1.0 execve("/bin/sh", ["sh", "-c", "echo aaaa"..., ...], 0x7ffd /* 35 vars */) = 0');
  const argv = e.args[1];
  assert.equal(argv?.kind, 'array');
  if (argv?.kind !== 'array') return;
  assert.equal(argv.truncated, true);
  assert.equal(argv.items.length, 3);
  assert.deepEqual(str(argv.items[2]), { ...str(argv.items[2]), value: 'echo aaaa', truncated: true });
  assert.equal(e.args[2]?.kind, 'raw');
});

test('parses [/* 5 vars */] and [...] argv forms without failing', () => {
  const e = syscall('1 1.0 execve("/bin/true", [/* 5 vars */], [...]) = 0');
  assert.equal(e.args.length, 3);
  assert.deepEqual(e.args.map(renderValue), ['"/bin/true"', '[/* 5 vars */]', '[...]']);
});

test('parses IPv4, IPv6, unix and netlink sockaddrs', () => {
  const v4 = syscall(
    '1 1.0 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}, 16) = -1 EINPROGRESS (Operation now in progress)',
  );
  assert.equal(
    renderValue(v4.args[1] as StraceValue),
    '{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}',
  );
  assert.equal(v4.result?.error, 'EINPROGRESS');
  const v6 = syscall(
    '1 1.0 connect(3, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
  );
  assert.equal(v6.args[1]?.kind, 'struct');
  const unix = syscall('1 1.0 connect(5, {sa_family=AF_UNIX, sun_path=@"/tmp/.X11-unix/X0"}, 20) = 0');
  assert.equal(
    renderValue(unix.args[1] as StraceValue),
    '{sa_family=AF_UNIX, sun_path=@"/tmp/.X11-unix/X0"}',
  );
  const nl = syscall('1 1.0 bind(3, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 0');
  assert.equal(nl.args.length, 3);
});

test('parses signals, exits and kills', () => {
  const sig = parseStraceLine(
    '6767  1795868029.327335 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=6768, si_uid=0, si_status=0} ---',
  );
  assert.equal(sig.type, 'signal');
  assert.equal(sig.type === 'signal' && sig.signal, 'SIGCHLD');
  assert.deepEqual(parseStraceLine('6768  1795868029.327316 +++ exited with 3 +++'), {
    type: 'exit',
    pid: 6768,
    time: 1795868029.327316,
    code: 3,
  });
  const killed = parseStraceLine('7 2.0 +++ killed by SIGKILL (core dumped) +++');
  assert.equal(killed.type, 'killed');
  assert.equal(killed.type === 'killed' && killed.coreDumped, true);
});

test('returns typed failures for garbage, never throws', () => {
  const inputs = [
    '',
    'hello',
    '12 abc',
    '12 1.0 openat(AT_FDCWD, "x"',
    '12 1.0 +++ exited',
    '12 1.0 foo(1) junk',
    '\u0000\u0001',
  ];
  for (const line of inputs) {
    const e = parseStraceLine(line);
    assert.equal(e.type, 'unparsed', line);
  }
});

test('fuzz: random slices of real lines never throw', () => {
  const line =
    '6772  1795868029.631851 sendto(4, "hi\\n\\1", 4, 0, {sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 4';
  for (let i = 0; i < line.length; i++) {
    parseStraceLine(line.slice(0, i));
    parseStraceLine(line.slice(i));
  }
});

test('joiner joins unfinished/resumed pairs interleaved across pids', () => {
  const j = new StraceLineJoiner();
  const lines = [
    '6767  1795868029.322397 vfork( <unfinished ...>',
    '6768  1795868029.322581 execve("/usr/bin/mv", ["mv", "x", "y"], 0x55f919235248 /* 35 vars */ <unfinished ...>',
    '6767  1795868029.322719 <... vfork resumed>) = 6768',
    '6769  1795868029.3228 openat(AT_FDCWD, "/etc/hosts", O_RDONLY <unfinished ...>',
    '6768  1795868029.322819 <... execve resumed>) = 0',
    '6769  1795868029.3229 <... openat resumed>) = 3',
  ];
  const out: (Exclude<StraceEvent, { type: 'unfinished' | 'resumed' }> | StraceParseFailure)[] = [];
  for (const l of lines) out.push(...j.push(l));
  out.push(...j.flush());
  assert.equal(out.length, 3);
  const [vfork, execve, openat] = out as SyscallEvent[];
  assert.equal(vfork?.name, 'vfork');
  assert.equal(vfork?.result?.value, 6768);
  assert.equal(vfork?.time, 1795868029.322397);
  assert.equal(execve?.name, 'execve');
  assert.equal(execve?.pid, 6768);
  assert.deepEqual(execve?.args.map(renderValue).slice(0, 2), ['"/usr/bin/mv"', '["mv", "x", "y"]']);
  assert.equal(execve?.result?.value, 0);
  assert.equal(openat?.name, 'openat');
  assert.equal(str(openat?.args[1]).value, '/etc/hosts');
});

test('joiner turns a call cut by death into a result-less syscall before the exit', () => {
  const j = new StraceLineJoiner();
  const a = j.push(
    '9 1.0 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("9.9.9.9")}, 16 <unfinished ...>',
  );
  assert.equal(a.length, 0);
  const b = j.push('9 1.5 +++ killed by SIGKILL +++');
  assert.equal(b.length, 2);
  assert.equal(b[0]?.type, 'syscall');
  assert.equal(b[0]?.type === 'syscall' && b[0].result, null);
  assert.equal(b[1]?.type, 'killed');
});

test('joiner reports a resumed line without its start as unparsed', () => {
  const j = new StraceLineJoiner();
  const out = j.push('9 1.0 <... openat resumed>) = 3');
  assert.equal(out[0]?.type, 'unparsed');
});

test("takes the host pid of a child created in the sandbox's pid namespace", () => {
  const e = syscall("4001  1795869266.306194 vfork() = 2 /* 4002 in strace's PID NS */");
  assert.equal(e.result?.value, 4002);
  const plain = syscall('4000  1795869266.303330 clone(child_stack=NULL, flags=SIGCHLD) = 4001');
  assert.equal(plain.result?.value, 4001);
});
