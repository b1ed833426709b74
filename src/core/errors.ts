/**
 * Typed errors with stable codes. Tests and callers match on `code`, never on the message.
 * Messages are sentence case and name the failed action and the value; `hint` tells the user what to do.
 */
export const ERROR_CODES = {
  USAGE: 'bad command-line usage',
  INVALID_PACKAGE_SPEC: 'the package name or version is not valid',
  PACKAGE_NOT_FOUND: 'the index has no such project or version',
  INDEX_UNREACHABLE: 'the package index could not be reached',
  INDEX_BAD_RESPONSE: 'the package index answered with something unparsable',
  ARCHIVE_UNREADABLE: 'the archive is corrupt or not a supported format',
  ARCHIVE_PATH_TRAVERSAL: 'the archive holds a member that escapes its root',
  ARCHIVE_TOO_LARGE: 'the archive expands beyond the allowed size (decompression bomb)',
  LOCAL_FILE_NOT_FOUND: 'a local file given on the command line does not exist',
  CAPABILITY_MISSING: 'a host capability the sandbox needs is missing',
  NOT_ROOT: 'the sandbox needs root to create network namespaces and cgroups',
  SANDBOX_SETUP_FAILED: 'the sandbox could not be set up',
  SANDBOX_TEARDOWN_FAILED: 'the sandbox could not be removed completely (leftovers named pkghunt-*)',
  SANDBOX_TIMEOUT: 'a phase ran past its time limit',
  TRACE_PARSE: 'a trace line could not be parsed',
  TRACE_INCOMPLETE: 'the tracer did not deliver the end of a trace (it died or fell behind)',
  CAPTURE_PARSE: 'a capture event could not be parsed',
  RECORD_INVALID: 'a behaviour record does not match the schema',
  EVAL_INPUT_INVALID: 'an input of the evaluation (popular list, dataset, records) is unreadable',
  STORE_UNAVAILABLE: 'the result store (database) could not be opened, read or written',
  CONFIG_INVALID: 'the configuration is invalid',
  INTERRUPTED: 'the work was interrupted (Ctrl-C or SIGTERM) before it finished',
  DOWNLOADS_NOT_CONFIGURED: 'no download-statistics provider is configured (credentials or endpoint missing)',
  DOWNLOADS_UNAVAILABLE: 'the download-statistics provider could not be reached or failed',
  DOWNLOADS_BAD_RESPONSE: 'the download-statistics provider answered with something unparsable',
  FEED_UNSUPPORTED: 'the index offers no feed of new releases (e.g. a file:// index) and none was given',
  FEED_UNAVAILABLE: 'a feed or changelog of the index could not be reached',
  FEED_BAD_RESPONSE: 'a feed or changelog answered with something unparsable',
  LISTING_UNSUPPORTED:
    'the registry offers no list of its packages (no search endpoint, not a directory): give a list of names',
  TRIAGE_DISABLED: 'the dashboard has no token configured, so triage decisions are refused (read-only)',
  TRIAGE_UNAUTHORIZED: 'a triage decision came without the right Bearer token',
  SERVE_FAILED: 'the dashboard server could not start (address in use, bad host or port)',
  INTERNAL: 'an unexpected internal error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The package itself is the problem: retrying its job cannot help. */
export const PERMANENT_JOB_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_PACKAGE_SPEC',
  'PACKAGE_NOT_FOUND',
  'ARCHIVE_UNREADABLE',
  'ARCHIVE_PATH_TRAVERSAL',
  'ARCHIVE_TOO_LARGE',
]);

/** This machine cannot analyse anything: a worker stops taking jobs instead of failing them all. */
export const FATAL_WORKER_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CAPABILITY_MISSING',
  'NOT_ROOT',
  'CONFIG_INVALID',
]);

export class PkghuntError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  override readonly cause: unknown;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message);
    this.name = 'PkghuntError';
    this.code = code;
    this.hint = options.hint;
    this.cause = options.cause;
  }
}

export function isPkghuntError(value: unknown): value is PkghuntError {
  return value instanceof PkghuntError;
}

/** Wraps anything thrown into a PkghuntError, keeping typed ones as they are. */
export function toPkghuntError(value: unknown, fallback: ErrorCode = 'INTERNAL'): PkghuntError {
  if (value instanceof PkghuntError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new PkghuntError(fallback, message, { cause: value });
}
