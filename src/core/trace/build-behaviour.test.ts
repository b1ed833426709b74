import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildBehaviour } from './build-behaviour.ts';
import type { BehaviourOptions } from './trace-behaviour.ts';

const OPTS: BehaviourOptions = {
  runnerPath: '/pkghunt/runner.py',
  initialCwd: '/builds/app',
  startTime: 100,
  noiseAreas: [
    { area: 'venv', prefixes: ['/opt/venv/'], kinds: 'all' },
    { area: 'system-read', prefixes: ['/usr/', '/etc/ld.so.cache'], kinds: 'reads' },
  ],
  sensitivePaths: ['/usr/share/secret', '/home/builder/'],
};

/** A launcher (pid 1) that forks bwrap plumbing (2), which execs the runner (3). */
const PRELUDE = [
  '1 100.000 execve("/usr/bin/setpriv", ["setpriv", "bwrap"], 0x1 /* 3 vars */) = 0',
  '1 100.001 openat(AT_FDCWD, "/etc/host-secret", O_RDONLY) = 3',
  '1 100.002 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 2',
  '2 100.003 chdir("/host/where") = 0',
  '2 100.004 execve("/usr/bin/python3", ["python3", "/pkghunt/runner.py", "install"], 0x1 /* 3 vars */) = 0',
  '2 100.005 openat(AT_FDCWD, "runner-own-file", O_RDONLY) = 3',
];

function run(lines: string[], opts: Partial<BehaviourOptions> = {}) {
  return buildBehaviour([...PRELUDE, ...lines], { ...OPTS, ...opts });
}

test('only descendants of the runner count; plumbing and the runner itself are dropped', () => {
  const b = run([
    '2 100.010 vfork( <unfinished ...>',
    '4 100.011 execve("/usr/bin/pip", ["pip", "install", "x"], 0x1 /* 3 vars */ <unfinished ...>',
    '2 100.012 <... vfork resumed>) = 4',
    '4 100.013 <... execve resumed>) = 0',
    '4 100.014 openat(AT_FDCWD, "setup.py", O_RDONLY|O_CLOEXEC) = 5',
    '4 100.020 +++ exited with 0 +++',
    '2 100.030 +++ exited with 0 +++',
  ]);
  assert.equal(b.rootPid, 2);
  assert.deepEqual(
    b.commands.map((c) => ({ ...c })),
    [
      {
        argv: ['pip', 'install', 'x'],
        cwd: '/builds/app',
        pid: 4,
        ppid: 2,
        time: 0.011,
        exe: '/usr/bin/pip',
      },
    ],
  );
  const paths = b.files.map((f) => f.path);
  assert.ok(paths.includes('/builds/app/setup.py'), 'relative path resolved against the sandbox cwd');
  assert.ok(!paths.includes('/etc/host-secret'), 'launcher plumbing dropped');
  assert.ok(!paths.some((p) => p.includes('runner-own-file')), 'runner own syscalls dropped');
  assert.equal(b.processCount, 1);
  assert.deepEqual(b.processes[0], {
    pid: 4,
    ppid: 2,
    exe: '/usr/bin/pip',
    argv: ['pip', 'install', 'x'],
    cwd: '/builds/app',
    start: 0.01,
    end: 0.02,
    exit: 'exited with 0',
  });
  assert.deepEqual(b.survivors, []);
});

test('cwd follows chdir and is inherited through clone; dirfds resolve via openat results', () => {
  const b = run([
    '2 100.010 clone(child_stack=NULL, flags=SIGCHLD) = 5',
    '5 100.011 chdir("sub/dir") = 0',
    '5 100.012 clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f, stack_size=0x9000}, 88) = 6',
    '6 100.013 openat(AT_FDCWD, "../x.txt", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3',
    '6 100.014 openat(AT_FDCWD, "/tmp/d", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 7',
    '6 100.015 unlinkat(7, "victim", 0) = 0',
    '6 100.016 unlinkat(9, "lost", AT_REMOVEDIR) = 0',
    '6 100.017 chdir("/nope") = -1 ENOENT (No such file or directory)',
    '6 100.018 mkdir("made", 0755) = 0',
  ]);
  const byPath = new Map(b.files.map((f) => [f.path, f]));
  const x = byPath.get('/builds/app/sub/x.txt');
  assert.ok(x, JSON.stringify([...byPath.keys()]));
  assert.deepEqual(x.ops, ['write', 'create']);
  assert.deepEqual(x.flags, ['O_WRONLY|O_CREAT|O_TRUNC']);
  assert.deepEqual(byPath.get('/tmp/d/victim')?.ops, ['delete']);
  const lost = byPath.get('lost');
  assert.ok(lost?.flags.includes('dirfd-unknown:9'));
  assert.ok(lost?.flags.includes('rmdir'));
  assert.deepEqual(byPath.get('/builds/app/sub/dir/made')?.flags, ['mkdir']);
});

test('unknown cwd keeps the relative path with a cwd-unknown flag', () => {
  const b = buildBehaviour(
    [
      '1 100.0 execve("/usr/bin/python3", ["python3", "/pkghunt/runner.py"], 0x1 /* 1 var */) = 0',
      '1 100.1 clone(child_stack=NULL, flags=SIGCHLD) = 2',
      '2 100.2 openat(AT_FDCWD, "rel.txt", O_RDONLY) = 3',
    ],
    { ...OPTS, initialCwd: null },
  );
  assert.deepEqual(
    b.files.map((f) => [f.path, f.flags]),
    [['rel.txt', ['cwd-unknown', 'O_RDONLY']]],
  );
});

test('rename, chmod, symlink, exec and failed execve are mapped', () => {
  const b = run([
    '2 100.010 fork() = 5',
    '5 100.011 execve("/usr/local/bin/sh", ["sh"], 0x1 /* 1 var */) = -1 ENOENT (No such file or directory)',
    '5 100.012 execve("/bin/sh", ["sh", "-c", "x"], 0x1 /* 1 var */) = 0',
    '5 100.013 rename("a", "/tmp/b") = 0',
    '5 100.014 renameat2(AT_FDCWD, "c", AT_FDCWD, "d", RENAME_NOREPLACE) = 0',
    '5 100.015 chmod("/tmp/b", 0755) = 0',
    '5 100.016 fchmodat(AT_FDCWD, "e", 04755) = -1 EPERM (Operation not permitted)',
    '5 100.017 symlink("/etc/passwd", "link") = 0',
  ]);
  assert.equal(b.commands.length, 1, 'failed PATH search dropped');
  assert.equal(b.commands[0]?.exe, '/bin/sh');
  const byPath = new Map(b.files.map((f) => [f.path, f]));
  assert.ok(!byPath.has('/usr/local/bin/sh'));
  assert.deepEqual(byPath.get('/bin/sh')?.ops, ['exec']);
  assert.deepEqual(byPath.get('/builds/app/a')?.flags, ['renamed-to:/tmp/b']);
  assert.deepEqual(byPath.get('/tmp/b')?.ops, ['create', 'chmod']);
  assert.deepEqual(byPath.get('/tmp/b')?.flags, ['renamed-from:/builds/app/a', 'mode 0755']);
  assert.equal(byPath.get('/tmp/b')?.count, 2);
  assert.deepEqual(byPath.get('/builds/app/d')?.ops, ['create']);
  assert.deepEqual(byPath.get('/builds/app/e')?.errors, ['EPERM']);
  assert.deepEqual(byPath.get('/builds/app/link')?.flags, ['symlink-to:/etc/passwd']);
});

test('noise areas are summarised, writes outside "reads" areas and sensitive paths are not', () => {
  const b = run([
    '2 100.010 clone(child_stack=NULL, flags=SIGCHLD) = 5',
    '5 100.011 openat(AT_FDCWD, "/opt/venv/lib/a.py", O_RDONLY) = 3',
    '5 100.012 openat(AT_FDCWD, "/opt/venv/lib/b.py", O_WRONLY|O_CREAT, 0644) = 3',
    '5 100.013 openat(AT_FDCWD, "/usr/lib/x.so", O_RDONLY|O_CLOEXEC) = 3',
    '5 100.014 openat(AT_FDCWD, "/usr/lib/evil", O_WRONLY|O_CREAT, 0644) = -1 EROFS (Read-only file system)',
    '5 100.015 openat(AT_FDCWD, "/usr/share/secret/key", O_RDONLY) = 3',
    '5 100.016 openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
  ]);
  assert.deepEqual(
    b.files.map((f) => f.path),
    ['/usr/lib/evil', '/usr/share/secret/key'],
  );
  assert.deepEqual(b.files[0]?.errors, ['EROFS']);
  const venv = b.file_summary.find((s) => s.area === 'venv');
  assert.deepEqual(venv, {
    area: 'venv',
    count: 2,
    writes: 1,
    top_dirs: [{ dir: '/opt/venv/lib', count: 2 }],
  });
  assert.equal(b.file_summary.find((s) => s.area === 'system-read')?.count, 2);
});

test('connects, sends, binds, unix sockets and kills', () => {
  const b = run([
    '2 100.010 clone(child_stack=NULL, flags=SIGCHLD) = 5',
    '5 100.011 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3',
    '5 100.012 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("1.2.3.4")}, 16) = -1 EINPROGRESS (Operation now in progress)',
    '5 100.013 sendto(3, "GET / HTTP/1.1\\r\\n", 16, MSG_NOSIGNAL, NULL, 0) = 16',
    '5 100.014 socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = 4',
    '5 100.015 sendto(4, "\\1\\2", 2, 0, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = 2',
    '5 100.016 sendmsg(6, {msg_name={sa_family=AF_INET, sin_port=htons(9999), sin_addr=inet_addr("5.6.7.8")}, msg_namelen=16, msg_iov=[{iov_base="ab", iov_len=2}, {iov_base="cd", iov_len=2}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, 0) = 4',
    '5 100.017 sendmmsg(7, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="q1", iov_len=2}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=2}, {msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="q2", iov_len=2}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=2}], 2, MSG_NOSIGNAL) = 2',
    '5 100.018 connect(8, {sa_family=AF_UNIX, sun_path="/run/docker.sock"}, 110) = -1 ENOENT (No such file or directory)',
    '5 100.019 bind(9, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("0.0.0.0")}, 16) = 0',
    '5 100.020 kill(1, SIGKILL) = -1 EPERM (Operation not permitted)',
    '5 100.021 tgkill(5, 6, SIGTERM) = 0',
    '5 100.022 connect(10, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 0',
  ]);
  assert.deepEqual(
    b.connects.map((c) => [c.ip, c.port, c.protocol, c.result, c.family]),
    [
      ['1.2.3.4', 80, 'tcp', 'EINPROGRESS', 'AF_INET'],
      ['2001:db8::1', 53, 'udp', 'ok', 'AF_INET6'],
      ['5.6.7.8', 9999, 'udp', 'ok', 'AF_INET'],
    ],
  );
  assert.deepEqual(
    b.sends.map((s) => [s.ip ?? null, s.port ?? null, s.preview]),
    [
      ['1.2.3.4', 80, 'GET / HTTP/1.1\\x0d\\x0a'],
      ['2001:db8::1', 53, '\\x01\\x02'],
      ['5.6.7.8', 9999, 'abcd'],
      [null, null, 'q1'],
      [null, null, 'q2'],
    ],
  );
  assert.equal(b.sends[0]?.bytes, 16);
  assert.deepEqual(b.unixConnects, [
    { pid: 5, time: 0.018, path: '/run/docker.sock', abstract: false, result: 'ENOENT' },
  ]);
  assert.deepEqual(
    b.binds.map((x) => [x.ip, x.port]),
    [['0.0.0.0', 4444]],
  );
  assert.deepEqual(
    b.kills.map((k) => [k.target, k.signal, k.result]),
    [
      [1, 'SIGKILL', 'EPERM'],
      [6, 'SIGTERM', 'ok'],
    ],
  );
});

test('child lines printed before the parent clone returns are attributed after it returns', () => {
  const b = run([
    '2 100.010 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>',
    '7 100.011 openat(AT_FDCWD, "early.txt", O_WRONLY|O_CREAT, 0600) = 3',
    '7 100.012 +++ exited with 0 +++',
    '2 100.013 <... clone resumed>) = 7',
  ]);
  assert.deepEqual(
    b.files.map((f) => f.path),
    ['/builds/app/early.txt'],
  );
  assert.equal(b.processes[0]?.exit, 'exited with 0');
});

test('threads share their process; survivors outlive the root', () => {
  const b = run([
    '2 100.010 clone(child_stack=NULL, flags=SIGCHLD) = 5',
    '5 100.011 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x7f, parent_tid=0x7f, exit_signal=0, stack=0x7f, stack_size=0x7fff00, tls=0x7f} => {parent_tid=[6]}, 88) = 6',
    '6 100.012 chdir("/tmp") = 0',
    '5 100.013 openat(AT_FDCWD, "t", O_RDONLY) = 3',
    '5 100.014 clone(child_stack=NULL, flags=SIGCHLD) = 8',
    '8 100.015 execve("/usr/bin/sleep", ["sleep", "100"], 0x1 /* 1 var */) = 0',
    '6 100.016 +++ exited with 0 +++',
    '5 100.017 +++ exited with 0 +++',
    '2 100.020 +++ exited with 0 +++',
    '8 100.050 +++ killed by SIGKILL +++',
  ]);
  assert.equal(b.processCount, 2, 'the thread is not a process');
  assert.ok(
    b.files.some((f) => f.path === '/tmp/t'),
    'threads share cwd',
  );
  assert.deepEqual(b.survivors, [{ pid: 8, argv: ['sleep', '100'] }]);
  assert.equal(b.processes.find((p) => p.pid === 8)?.exit, 'killed by SIGKILL');
  assert.equal(b.processes.find((p) => p.pid === 5)?.end, 0.017);
});

test('counts unparsed lines and keeps the first five', () => {
  const b = run(['garbage 1', 'garbage 2', '', '5 100.0 <... openat resumed>) = 3']);
  assert.equal(b.stats.unparsed, 3);
  assert.deepEqual(b.stats.firstUnparsed, ['garbage 1', 'garbage 2', '5 100.0 <... openat resumed>) = 3']);
  assert.equal(b.stats.lines, PRELUDE.length + 3);
});

test('without a root rule the first process is the root', () => {
  const b = buildBehaviour(
    [
      '1 5.0 execve("/bin/sh", ["sh"], 0x1 /* 1 var */) = 0',
      '1 5.1 clone(child_stack=NULL, flags=SIGCHLD) = 2',
      '2 5.2 execve("/bin/true", ["true"], 0x1 /* 1 var */) = 0',
    ],
    { startTime: 5, initialCwd: '/w' },
  );
  assert.equal(b.rootPid, 1);
  assert.deepEqual(
    b.commands.map((c) => [c.exe, c.cwd, c.time]),
    [['/bin/true', '/w', 0.2]],
  );
});

test('event lists are capped and the rest counted as dropped', () => {
  const lines: string[] = ['2 100.010 clone(child_stack=NULL, flags=SIGCHLD) = 5'];
  for (let i = 0; i < 20; i++) lines.push(`5 100.1 kill(${i + 100}, 0) = -1 ESRCH (No such process)`);
  const b = run(lines, { maxListItems: 5 });
  assert.equal(b.kills.length, 5);
  assert.equal(b.stats.dropped, 15);
});
