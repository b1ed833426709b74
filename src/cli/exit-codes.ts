/** Exit codes, documented in README.md. Only the output layer decides them. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  /** analyze: the verdict is suspicious or malicious (also with --json). */
  SUSPICIOUS: 3,
  /** A long run (hunt) stopped by Ctrl-C or SIGTERM; running it again resumes. */
  INTERRUPTED: 130,
} as const;
