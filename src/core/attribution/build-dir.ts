import { normalizeName } from '../pypi/normalize-name.ts';

/**
 * pip unpacks each sdist it builds into `/tmp/pip-install-<random>/<canonical name>[_<uuid hex>]`
 * and a requirement given as a path or URL (the analysed package when it is a local file) into
 * `/tmp/pip-req-build-<random>`; its PEP 517 hooks (or the legacy setup.py) run with that directory
 * as their working directory (pip 23, req_install.ensure_build_location).
 */
const INSTALL_DIR = /\/tmp\/pip-install-[^/\s'"]+\/([^/\s'"]+)/;
const REQ_BUILD_DIR = /\/tmp\/pip-req-build-[^/\s'"]+/;
const UUID_SUFFIX = /_[0-9a-f]{32}$/;

/** The distribution whose unpacked source `text` (a path or an argv element) points into. */
export type BuildDirOwner = { kind: 'named'; name: string } | { kind: 'unnamed' };

export function buildDirOwner(text: string): BuildDirOwner | null {
  const named = INSTALL_DIR.exec(text);
  if (named?.[1] !== undefined) {
    return { kind: 'named', name: normalizeName(named[1].replace(UUID_SUFFIX, '')) };
  }
  return REQ_BUILD_DIR.test(text) ? { kind: 'unnamed' } : null;
}
