/**
 * Package-controlled text made safe for a report: one line, every control character (and the
 * C1 range) written as \xNN so nothing can drive a terminal or forge lines in the email, cut to `max`.
 */
export function oneLine(text: string, max = 300): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
    out += control ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
    if (out.length > max) return `${out.slice(0, max)}...`;
  }
  return out;
}

const SAFE_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** argv as a shell command line a reader can copy (arguments quoted as a POSIX shell needs). */
export function commandLine(argv: readonly string[], max = 400): string {
  const quoted = argv.map((arg) =>
    arg.length > 0 && SAFE_ARG.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`,
  );
  return oneLine(quoted.join(' '), max);
}

/** Text for a Markdown code span: no backtick can close it early. */
export function codeSpan(text: string): string {
  return `\`${text.replaceAll('`', '\\x60')}\``;
}
