/** PEP 503 normalised form of a project name: runs of `-`, `_` and `.` become one `-`, lower case. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** PEP 508 project name: ASCII letters, digits, `.`, `_`, `-`; starts and ends with a letter or digit. */
const NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

export function isValidProjectName(name: string): boolean {
  return name.length <= 200 && NAME_PATTERN.test(name);
}
