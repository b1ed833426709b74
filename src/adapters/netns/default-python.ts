import { existsSync } from 'node:fs';

const SYSTEM_PYTHON = '/usr/bin/python3';

/**
 * netsvc.py needs only the standard library; the distribution's interpreter starts in ~15 ms with
 * -I -S, where a pyenv shim on PATH can take ~100 ms, so it is preferred when present.
 */
export function defaultPython(): string {
  return existsSync(SYSTEM_PYTHON) ? SYSTEM_PYTHON : 'python3';
}
