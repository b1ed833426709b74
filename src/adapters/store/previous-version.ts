import { compare, valid } from '@renovatebot/pep440';

export interface AnalysedVersion {
  version: string;
  /** The release's upload time, when the store has the release. */
  uploadTime: string | null;
}

/**
 * Of the analysed versions of a project, the latest one older than `version`: by PEP 440 order
 * when both parse, else by upload time. Shared by both engines so that `previousRecord` agrees.
 */
export function previousVersion(analysed: readonly AnalysedVersion[], self: AnalysedVersion): string | null {
  const { version } = self;
  const older = analysed.filter((a) => {
    if (a.version === version) return false;
    if (valid(a.version) && valid(version)) return compare(a.version, version) < 0;
    return a.uploadTime !== null && self.uploadTime !== null && a.uploadTime < self.uploadTime;
  });
  older.sort((a, b) =>
    valid(a.version) && valid(b.version)
      ? compare(b.version, a.version)
      : (b.uploadTime ?? '').localeCompare(a.uploadTime ?? ''),
  );
  return older[0]?.version ?? null;
}
