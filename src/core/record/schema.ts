import { z } from 'zod';

/**
 * The behaviour record: one JSON document per analysed package. Other tools read it, so the
 * names below are fixed; new fields may be added, never renamed. See docs/RECORD.md.
 */
export const SCHEMA_VERSION = 1 as const;

export const PhaseName = z.enum(['install', 'import']);
export type PhaseName = z.infer<typeof PhaseName>;

export const PhaseStatus = z.enum(['completed', 'failed', 'timeout', 'sandbox_error']);
export type PhaseStatus = z.infer<typeof PhaseStatus>;

export const LimitName = z.enum(['timeout', 'memory', 'pids', 'disk', 'output']);
export type LimitName = z.infer<typeof LimitName>;

export const FileOp = z.enum(['read', 'write', 'create', 'delete', 'rename', 'chmod', 'exec']);
export type FileOp = z.infer<typeof FileOp>;

export const Command = z.object({
  argv: z.array(z.string()),
  cwd: z.string().nullable(),
  pid: z.number().int(),
  ppid: z.number().int().nullable(),
  /** Seconds since the phase started. */
  time: z.number(),
  /** Path actually executed (execve's first argument). */
  exe: z.string(),
});
export type Command = z.infer<typeof Command>;

export const FileAccess = z.object({
  path: z.string(),
  ops: z.array(FileOp),
  /** open(2) flags and other syscall details seen, e.g. O_WRONLY|O_CREAT, mode 0755, rename target. */
  flags: z.array(z.string()),
  /** How many syscalls touched this path. */
  count: z.number().int(),
  /** How many of those syscalls failed (`ops` are what was attempted). */
  failed: z.number().int(),
  /** Distinct error names of failed attempts (ENOENT, EACCES, ...). */
  errors: z.array(z.string()),
  /** Pids that touched the path (first few). */
  pids: z.array(z.number().int()),
});
export type FileAccess = z.infer<typeof FileAccess>;

/** Accesses inside areas that are expected noise (the venv, pip's scratch dirs, system reads), summarised. */
export const FileAreaSummary = z.object({
  area: z.string(),
  count: z.number().int(),
  writes: z.number().int(),
  top_dirs: z.array(z.object({ dir: z.string(), count: z.number().int() })),
});
export type FileAreaSummary = z.infer<typeof FileAreaSummary>;

export const DnsQuery = z.object({
  name: z.string(),
  type: z.string(),
  time: z.number(),
  /** Address the fake resolver answered with, when it answered with one. */
  answer: z.string().nullable(),
  /** The resolver address the query was sent to (a query sent straight to a public resolver shows here). */
  server: z.string().nullable(),
});
export type DnsQuery = z.infer<typeof DnsQuery>;

export const HttpRequestInfo = z.object({
  method: z.string(),
  host: z.string().nullable(),
  path: z.string(),
});

export const Connection = z.object({
  protocol: z.enum(['tcp', 'udp']),
  ip: z.string(),
  port: z.number().int(),
  /** DNS name the address was handed out for by the fake resolver, when known. */
  hostname: z.string().nullable(),
  sent_bytes: z.number().int(),
  /** First bytes sent (up to 4 KiB), printable ASCII kept, everything else escaped as \xNN. */
  sent_preview: z.string(),
  http: HttpRequestInfo.nullable(),
  tls_sni: z.string().nullable(),
  time: z.number(),
  /** Pids seen calling connect() to this destination in the trace. */
  pids: z.array(z.number().int()),
});
export type Connection = z.infer<typeof Connection>;

export const CanaryHow = z.enum(['read', 'sent', 'argv', 'dns']);
export const CanaryHit = z.object({
  canary: z.string(),
  how: CanaryHow,
  evidence: z.string(),
});
export type CanaryHit = z.infer<typeof CanaryHit>;

export const Survivor = z.object({
  pid: z.number().int(),
  argv: z.array(z.string()),
  killed: z.boolean(),
});
export type Survivor = z.infer<typeof Survivor>;

export const ModuleImport = z.object({
  module: z.string(),
  status: z.enum(['ok', 'error', 'timeout']),
  error: z.string().nullable(),
  duration_ms: z.number(),
});
export type ModuleImport = z.infer<typeof ModuleImport>;

export const Phase = z.object({
  status: PhaseStatus,
  exit_code: z.number().int().nullable(),
  duration_ms: z.number(),
  stdout_tail: z.string(),
  stderr_tail: z.string(),
  /** Why the phase did not complete, in words, when it did not. */
  reason: z.string().nullable(),
  limits_hit: z.array(LimitName),
  commands: z.array(Command),
  files: z.array(FileAccess),
  file_summary: z.array(FileAreaSummary),
  dns: z.array(DnsQuery),
  connections: z.array(Connection),
  canaries: z.array(CanaryHit),
  survivors: z.array(Survivor),
  modules: z.array(ModuleImport),
  process_count: z.number().int(),
});
export type Phase = z.infer<typeof Phase>;

export const IndexRequest = z.object({
  method: z.string(),
  /** Path as pip asked the proxy for it. */
  path: z.string(),
  /** Where the proxy fetched it from (a URL or a local file), null when refused. */
  upstream: z.string().nullable(),
  status: z.number().int(),
  bytes: z.number().int(),
  cached: z.boolean(),
  time: z.number(),
  phase: PhaseName.nullable(),
});
export type IndexRequest = z.infer<typeof IndexRequest>;

export const Artifact = z.object({
  filename: z.string(),
  sha256: z.string(),
  size: z.number().int(),
});

export const PackageInfo = z.object({
  ecosystem: z.literal('pypi'),
  name: z.string(),
  version: z.string().nullable(),
  /** What the user asked for: NAME, NAME==VERSION or a local path. */
  requested: z.string(),
  source: z.enum(['index', 'local']),
  artifact: Artifact.nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
});
export type PackageInfo = z.infer<typeof PackageInfo>;

export const Limits = z.object({
  timeout_s: z.number(),
  memory_mb: z.number(),
  pids: z.number().int(),
  disk_mb: z.number(),
  output_kb: z.number(),
});
export type Limits = z.infer<typeof Limits>;

export const SandboxInfo = z.object({
  tracer: z.string(),
  limits: Limits,
  /** How each limit was enforced on this host (cgroup v1/v2, rlimit, tmpfs size). */
  enforcement: z.record(z.string(), z.string()),
  host_uid: z.number().int(),
  python: z.string(),
  canary_token: z.string(),
});

export const BehaviourRecord = z.object({
  schema_version: z.literal(SCHEMA_VERSION),
  tool: z.object({ name: z.literal('pkghunt'), version: z.string() }),
  run_id: z.string(),
  started_at: z.string(),
  finished_at: z.string(),
  package: PackageInfo,
  sandbox: SandboxInfo,
  phases: z.object({ install: Phase.optional(), import: Phase.optional() }),
  index_requests: z.array(IndexRequest),
});
export type BehaviourRecord = z.infer<typeof BehaviourRecord>;
