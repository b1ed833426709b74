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

/**
 * Who caused a behaviour: the package under analysis, one of its dependencies (run-time or
 * build-time), pip itself, or nobody we could tell. Filled by the attribution step
 * (src/core/attribution); absent in records written before it existed. See docs/RECORD.md.
 */
export const AttributionKind = z.enum(['package', 'dependency', 'build_dependency', 'pip', 'unknown']);
export type AttributionKind = z.infer<typeof AttributionKind>;

export const Attribution = z.object({
  kind: AttributionKind,
  /** Normalised distribution name for package/dependency/build_dependency; null for pip/unknown. */
  distribution: z.string().nullable(),
  /** How it was decided, e.g. "process-tree", "build-dir", "staged-import". */
  method: z.string(),
});
export type Attribution = z.infer<typeof Attribution>;

export const Command = z.object({
  argv: z.array(z.string()),
  cwd: z.string().nullable(),
  pid: z.number().int(),
  ppid: z.number().int().nullable(),
  /** Seconds since the phase started. */
  time: z.number(),
  /** Path actually executed (execve's first argument). */
  exe: z.string(),
  by: Attribution.optional(),
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
  /** Who touched it (one entry per distinct culprit). */
  by: z.array(Attribution).optional(),
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
  by: z.array(Attribution).optional(),
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
  by: z.array(Attribution).optional(),
});
export type Connection = z.infer<typeof Connection>;

export const CanaryHow = z.enum(['read', 'sent', 'argv', 'dns']);
export const CanaryHit = z.object({
  canary: z.string(),
  how: CanaryHow,
  evidence: z.string(),
  by: z.array(Attribution).optional(),
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
  /** Set on a dependency's module, imported in its own process before the package's (staged import). */
  distribution: z.string().optional(),
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
  /** `npm` for `analyze npm:...` (docs/RECORD.md, "npm records"); records before it are all `pypi`. */
  ecosystem: z.enum(['pypi', 'npm']),
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
  /** Trace events the tracer dropped (bpftrace under load; counted per launch, see ARCHITECTURE.md). */
  tracer_lost_events: z.number().int().optional(),
  limits: Limits,
  /** How each limit was enforced on this host (cgroup v1/v2, rlimit, tmpfs size). */
  enforcement: z.record(z.string(), z.string()),
  host_uid: z.number().int(),
  python: z.string(),
  /** npm records: the node binary npm and the entry-point probes ran with. */
  node: z.string().optional(),
  canary_token: z.string(),
});

/** What a release does that the previous analysed release of the same project did not (src/core/diff). */
export const DiffFromPrevious = z.object({
  /** The previous analysed release compared with. */
  version: z.string().nullable(),
  new_hosts: z.array(z.string()),
  new_dns: z.array(z.string()),
  new_commands: z.array(z.string()),
  new_file_writes: z.array(z.string()),
});
export type DiffFromPrevious = z.infer<typeof DiffFromPrevious>;

/** How bad a finding is; the weights are in src/core/detect/score.ts and docs/RECORD.md. */
export const Severity = z.enum(['info', 'low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;

export const FindingEvidence = z.object({
  /** A JSON pointer into this record (`/phases/install/connections/0`), or `FILE:LINE` inside the artifact for static findings. */
  pointer: z.string(),
  text: z.string(),
});
export type FindingEvidence = z.infer<typeof FindingEvidence>;

export const Finding = z.object({
  rule: z.string(),
  severity: Severity,
  title: z.string(),
  /** MITRE ATT&CK technique id, e.g. T1041, when one fits. */
  attack: z.string().nullable(),
  /** `static`: found in the artifact's files, not in what ran. */
  phase: z.enum(['install', 'import', 'static']),
  /** Who caused it, from the record's `by` fields; null when the record does not say. */
  culprit: z.object({ kind: AttributionKind, distribution: z.string().nullable() }).nullable(),
  evidence: z.array(FindingEvidence),
  /** Points this finding added to the score (after the population adjustment). */
  points: z.number(),
  /** Why the population changed the points, when it did. */
  population: z.string().optional(),
  /**
   * Set when a triage decision in force dismissed it: an analyst marked the same behaviour of the
   * same project a false positive (src/core/triage/triage-baseline.ts). It then adds no points.
   */
  dismissed: z.string().optional(),
});
export type Finding = z.infer<typeof Finding>;

/** Written by src/core/detect; absent in records from before detection existed. */
export const Verdict = z.object({
  level: z.enum(['clean', 'suspicious', 'malicious']),
  /** 0..100. */
  score: z.number(),
  findings: z.array(Finding),
  /** How many of the artifact's files the static scan read (null: no artifact could be read). */
  static_files: z.number().int().nullable(),
  /** Whether a population view adjusted the score. */
  population_adjusted: z.boolean(),
});
export type Verdict = z.infer<typeof Verdict>;

/** What pip installed (dependency) or built/installed for a build (build_dependency) besides the package. */
export const Dependency = z.object({
  /** Normalised distribution name. */
  name: z.string(),
  version: z.string().nullable(),
  kind: z.enum(['dependency', 'build_dependency']),
  /** The file pip fetched from the index proxy for it, null when none was seen (e.g. already cached). */
  artifact: z.enum(['sdist', 'wheel', 'tarball']).nullable(),
});
export type Dependency = z.infer<typeof Dependency>;

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
  /** Absent in records from before attribution existed (src/core/attribution). */
  dependencies: z.array(Dependency).optional(),
  /** Set by hunt/worker when an earlier release of the project was analysed. */
  diff_from_previous: DiffFromPrevious.optional(),
  verdict: Verdict.optional(),
});
export type BehaviourRecord = z.infer<typeof BehaviourRecord>;
