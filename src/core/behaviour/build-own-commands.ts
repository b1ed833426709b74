/**
 * Commands that pip and the standard build machinery run on their own for every package:
 * pip re-running itself under the venv's interpreter, PEP 517 hook processes, pip installing
 * build dependencies into an isolated environment, and the platform probes pip's user agent
 * makes. They are not evidence of anything the package did. Compilers are *not* in this list:
 * a native build is the package's choice, and detection decides about it with the population.
 */
const PYTHON = /(^|\/)python(3(\.\d+)?)?$/;

export function isBuildOwnCommand(argv: readonly string[]): boolean {
  const [exe = '', ...rest] = argv;
  const base = exe.split('/').pop() ?? '';
  const line = rest.join(' ');
  if (PYTHON.test(exe)) {
    if (/(^|\s)-m pip( |$)/.test(line) || /\/pip(\/__main__\.py|\/__pip-runner__\.py)?( |$)/.test(line))
      return true;
    if (/pyproject_hooks\/_in_process\/_in_process\.py|pep517\/in_process\/_in_process\.py/.test(line))
      return true;
    if (/_in_process\.py/.test(line)) return true;
  }
  if (base === 'lsb_release' && line === '-a') return true;
  // What Debian's lsb_release script runs inside itself.
  if (base === 'getopt' && line.startsWith('--name lsb_release ')) return true;
  if (base === 'cut' && (line === '-c1' || line === '-c2-')) return true;
  if (base === 'tr' && (line === '[:lower:] [:upper:]' || line === '[:upper:] [:lower:]')) return true;
  if (base === 'uname' && (line === '-rs' || line === '-p')) return true;
  if ((base === 'sh' || base === 'dash') && /^-c uname -p( 2> ?\/dev\/null)?$/.test(line)) return true;
  return false;
}
