/** pkghunt's version: the record's `tool.version` and `pkghunt --version` (its own module, so that
 * `--version` loads nothing else). */
export const TOOL_VERSION = '0.1.0';
