import type { Command } from '../../record/schema.ts';
import { SHELLS, SUSPICIOUS_TOOLS } from '../indicators.ts';
import { baseName, type Item, type PhaseView, showArgv } from '../record-view.ts';
import type { Rule, RuleHit } from '../rule.ts';

const INTERPRETER =
  /^(python[\d.]*|pypy[\d.]*|sh|bash|dash|zsh|ksh|perl[\d.]*|ruby[\d.]*|node|nodejs|php[\d.]*|lua[\d.]*|osascript|pwsh|powershell)$/;
const WRITE_OPS = new Set(['write', 'create', 'rename']);

/** The script of `sh -c SCRIPT` (or bash/dash ...), else null. */
export function shellScript(argv: readonly string[]): string | null {
  const [exe = '', ...rest] = argv;
  if (!SHELLS.includes(baseName(exe))) return null;
  const at = rest.findIndex((a) => /^-[a-z]*c[a-z]*$/.test(a));
  return at < 0 ? null : (rest[at + 1] ?? null);
}

/** The commands a shell script runs: the first word of each pipeline/list element. */
export function scriptCommands(script: string): string[] {
  return script
    .split(/\|\||&&|[|;&`\n]|\$\(|\)/)
    .map((segment) =>
      segment
        .trim()
        .split(/\s+/)
        .filter((w) => !/^\w+=/.test(w) && w !== 'sudo' && w !== 'exec'),
    )
    .map((words) => baseName(words[0] ?? ''))
    .filter((w) => w.length > 0);
}

/**
 * npm runs every lifecycle script as `sh -c SCRIPT` in the package's folder: the shell is npm's,
 * the script is the package's (npm.install-script-fetch-exec and npm.static.install-script).
 */
function isNpmLifecycleLauncher(c: Command): boolean {
  return c.by?.method === 'script-cwd' && shellScript(c.argv) !== null;
}

function hit(p: PhaseView, c: Item<Command>, text?: string): RuleHit {
  return {
    phase: p.name,
    culprit: c.culprit,
    evidence: [{ pointer: c.pointer, text: text ?? showArgv(c.value.argv) }],
    population: { kind: 'command', key: c.value.argv.join(' ') },
  };
}

export const shellRule: Rule = {
  id: 'exec.shell',
  severity: 'low',
  title: 'runs a shell',
  description:
    "Package code started a shell (sh -c, os.system, subprocess with shell=True). Build machinery that does so (distutils running the compiler) is allowlisted, and so is npm's own `sh -c SCRIPT` that starts a lifecycle script (attribution method `script-cwd`): what the script says is judged by the npm rules, and every shell the script starts in turn still counts.",
  attack: 'T1059.004',
  match(_record, view) {
    return view.phases.flatMap((p) =>
      p.commands
        .filter((c) => SHELLS.includes(baseName(c.value.exe || (c.value.argv[0] ?? ''))))
        .filter((c) => !isNpmLifecycleLauncher(c.value))
        .map((c) => hit(p, c)),
    );
  },
};

export const toolRule: Rule = {
  id: 'exec.tool',
  severity: 'medium',
  title: 'runs a tool that moves, decodes or hides data (curl, wget, nc, base64, powershell, ...)',
  description:
    'Package code ran one of the tools listed in src/core/detect/indicators.ts (SUSPICIOUS_TOOLS), directly or inside a shell command line.',
  attack: 'T1105',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      for (const c of p.commands) {
        const own = baseName(c.value.argv[0] ?? c.value.exe);
        const script = shellScript(c.value.argv);
        const named = [own, ...(script === null ? [] : scriptCommands(script))].filter((w) =>
          SUSPICIOUS_TOOLS.includes(w),
        );
        if (named.length > 0)
          hits.push(hit(p, c, `${[...new Set(named)].join(', ')}: ${showArgv(c.value.argv)}`));
      }
    }
    return hits;
  },
};

const REVERSE_SHELL_PATTERNS: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /\/dev\/(tcp|udp)\/[^\s/]+\/\d+/, what: 'shell redirection to /dev/tcp' },
  { pattern: /\b(nc|ncat|netcat|nc\.traditional|nc\.openbsd)\b[^|;&]*\s-[a-z]*[ec]\s/, what: 'netcat -e/-c' },
  { pattern: /\bsocat\b.*\b(exec|system):/i, what: 'socat exec:' },
  { pattern: /\bpty\.spawn\s*\(/, what: 'python pty.spawn' },
  { pattern: /\bmkfifo\b.*\b(nc|ncat|netcat|telnet|openssl)\b/, what: 'fifo piped through a network tool' },
  { pattern: /\bsocket\b[\s\S]*\bdup2\s*\(/, what: 'socket wired to stdio with dup2' },
  {
    pattern: /\bopenssl\s+s_client\b.*\|\s*(\/bin\/)?(ba|z|da)?sh\b/,
    what: 'openssl s_client piped to a shell',
  },
];

function interactiveShell(argv: readonly string[]): boolean {
  const [exe = '', ...rest] = argv;
  return SHELLS.includes(baseName(exe)) && rest.some((a) => /^-[a-z]*i[a-z]*$/.test(a));
}

export const reverseShellRule: Rule = {
  id: 'exec.reverse-shell',
  severity: 'critical',
  title: 'opens a reverse shell',
  description:
    'A shell wired to a network connection: `bash -i >& /dev/tcp/...`, `nc -e`, socat exec:, python socket+dup2 or pty.spawn in a command line, or an interactive shell (`sh -i`) whose process or parent made a connection.',
  attack: 'T1059',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      for (const c of p.commands) {
        const line = c.value.argv.join(' ');
        const found = REVERSE_SHELL_PATTERNS.find((r) => r.pattern.test(line));
        if (found) {
          hits.push(hit(p, c, `${found.what}: ${showArgv(c.value.argv)}`));
          continue;
        }
        if (!interactiveShell(c.value.argv)) continue;
        const near = [c.value.pid, c.value.ppid].filter((pid): pid is number => pid !== null);
        const connection = p.connections.find((k) => k.value.pids.some((pid) => near.includes(pid)));
        if (connection) {
          const h = hit(p, c, `interactive shell: ${showArgv(c.value.argv)}`);
          h.evidence.push({
            pointer: connection.pointer,
            text: 'connection made by the shell or its parent',
          });
          hits.push(h);
        }
      }
    }
    return hits;
  },
};

const PIPE_TO_SHELL =
  /\b(curl|wget|fetch)\b[^|;&]*\|\s*(sudo\s+)?(\/\S*\/)?(ba|z|da|k)?sh\b|\b(curl|wget)\b[^;&|]*(-o|-O|--output)\s*(\S+)[^;]*(&&|;)\s*(chmod\s+\S*x|(ba|da)?sh|\.\/|python)/;

function executes(c: Command, path: string): boolean {
  const [first = '', ...rest] = c.argv;
  if (c.exe === path || first === path) return true;
  return INTERPRETER.test(baseName(first)) && rest.includes(path);
}

export const downloadExecuteRule: Rule = {
  id: 'exec.download-execute',
  severity: 'critical',
  title: 'writes a file, then executes it (download-then-execute)',
  description:
    'A file the code wrote is then executed or handed to an interpreter (e.g. /tmp/malicious.py run by python), or a command line pipes curl/wget into a shell. Critical when the same phase contacted the network (the payload was fetched); high when no connection was seen.',
  attack: 'T1105',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      const networked = p.connections.length > 0 || p.dns.length > 0;
      for (const f of p.files) {
        if (!f.value.ops.some((op) => WRITE_OPS.has(op))) continue;
        const runner = p.commands.find((c) => executes(c.value, f.value.path));
        const execd = f.value.ops.includes('exec');
        if (!runner && !execd) continue;
        const evidence = [{ pointer: f.pointer, text: `${f.value.path} written (${f.value.ops.join(',')})` }];
        if (runner)
          evidence.push({ pointer: runner.pointer, text: `then run: ${showArgv(runner.value.argv)}` });
        hits.push({
          phase: p.name,
          culprit: runner?.culprit ?? f.culprit,
          severity: networked ? 'critical' : 'high',
          evidence,
          population: { kind: 'path', key: f.value.path },
        });
      }
      for (const c of p.commands) {
        const script = shellScript(c.value.argv) ?? c.value.argv.join(' ');
        if (PIPE_TO_SHELL.test(script))
          hits.push({
            ...hit(p, c, `fetch piped to execution: ${showArgv(c.value.argv)}`),
            severity: 'critical',
          });
      }
    }
    return hits;
  },
};
