import { recordFacts } from '../behaviour/record-facts.ts';
import type { BehaviourRecord, Phase } from '../record/schema.ts';

/**
 * Why a malicious sample showed nothing, read from its record alone:
 * - `windows_only`: its code reaches for Windows (winreg, APPDATA, powershell, .exe...) and
 *   stops or does nothing on Linux;
 * - `crashes_early`: it cannot run on Python 3 at all (Python 2 syntax, syntax errors);
 * - `missing_dependency`: setup.py imports a module the isolated build environment lacks, so
 *   pip stops before the payload runs;
 * - `install_failed`: the install failed for another reason (bad metadata, build error);
 * - `timed_out`: a phase ran past its limit;
 * - `nothing_observable`: it installed (and imported) and did nothing the sandbox records.
 */
export type Observability =
  | 'observable'
  | 'windows_only'
  | 'crashes_early'
  | 'missing_dependency'
  | 'install_failed'
  | 'timed_out'
  | 'nothing_observable';

const WINDOWS =
  /\b(winreg|_winreg|windll|win32api|win32con|win32crypt|pywintypes|msvcrt|WinError|ctypes\.wintypes)\b|USERPROFILE|LOCALAPPDATA|APPDATA|powershell|\.exe\b|[A-Z]:\\\\/i;
const PY2_OR_SYNTAX =
  /\b(SyntaxError|TabError|IndentationError)\b|Missing parentheses in call to '(print|exec)'|NameError: name '(unicode|raw_input|basestring|unichr|long|xrange|execfile|reload)' is not defined|No module named '(urllib2|_winreg|ConfigParser|StringIO|cStringIO|httplib|commands|urlparse|cookielib)'/;
const MISSING_MODULE =
  /\b(ModuleNotFoundError: No module named|ImportError: No module named|ImportError: cannot import name)\b/;

function _text(phase: Phase | undefined): string {
  return phase === undefined ? '' : `${phase.stdout_tail}\n${phase.stderr_tail}`;
}

/**
 * Behaviour the sandbox observed, as the store's facts count it: a connection, a DNS name, a
 * canary, a command beyond pip's own and the import probe.
 */
export function observedBehaviour(record: BehaviourRecord): {
  network: boolean;
  dns: boolean;
  commands: boolean;
  canary: boolean;
} {
  const facts = recordFacts(record);
  return {
    network: facts.connectedOut,
    dns: facts.dns.length > 0,
    commands: facts.commands.length > 0,
    canary: facts.canaryHits > 0,
  };
}

/**
 * Whether a sample's behaviour can be observed on Linux, and if not why (see Observability).
 * Observed behaviour wins over error messages: a sample that connected out and then crashed
 * on a Windows path still showed something.
 */
export function classifyObservability(record: BehaviourRecord): Observability {
  const seen = observedBehaviour(record);
  if (seen.network || seen.dns || seen.commands || seen.canary) return 'observable';
  const install = record.phases.install;
  const imported = record.phases.import;
  const text = `${_text(install)}\n${_text(imported)}`;
  // Python 2 modules that were renamed read as "missing module": check the crash first.
  if (PY2_OR_SYNTAX.test(text)) return 'crashes_early';
  if (WINDOWS.test(text)) return 'windows_only';
  if (MISSING_MODULE.test(text)) return 'missing_dependency';
  const statuses = [install?.status, imported?.status];
  if (statuses.includes('timeout')) return 'timed_out';
  if (install !== undefined && install.status !== 'completed') return 'install_failed';
  return 'nothing_observable';
}

/** Linux-observable: it showed behaviour, or it ran and showed nothing (our miss, not its platform). */
export function isLinuxObservable(o: Observability): boolean {
  return o === 'observable' || o === 'nothing_observable' || o === 'timed_out';
}
