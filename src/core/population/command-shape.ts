import { nameVariants } from './path-pattern.ts';

/**
 * The shape of a command line, so that the same behaviour in two packages (or two versions)
 * gets the same key: the executable's basename, then the arguments with URLs, paths, hex strings
 * and numbers replaced by placeholders (temp-dir names, pids and ports differ from run to run),
 * and the package's own name by `<pkg>` when it is given.
 */
export function commandShape(argv: readonly string[], pkg?: { name: string }): string {
  const [exe = '', ...args] = argv;
  const base = exe.split('/').pop() || exe;
  const variants = pkg === undefined ? [] : nameVariants(pkg.name);
  return [base, ...args.map((arg) => _argShape(arg, variants))].join(' ').slice(0, 300);
}

function _argShape(arg: string, variants: readonly string[]): string {
  let out = arg
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'";|&<>()]*/gi, '<url>')
    .replace(/[^\s'";|&<>()=]*\/[^\s'";|&<>()]*/g, '<path>');
  for (const variant of variants) out = out.split(variant).join('<pkg>');
  return out.replace(/\b[0-9a-f]{8,}\b/gi, '<hex>').replace(/\b\d+(?:\.\d+)*\b/g, '<n>');
}
