import { z } from 'zod';

/** RFC 3339 time in UTC, as OSV records write it. */
const OsvTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, 'an RFC 3339 UTC time');

/** OSV reference types (OSV schema 1.x). */
export const OsvReferenceType = z.enum([
  'ADVISORY',
  'ARTICLE',
  'DETECTION',
  'DISCUSSION',
  'REPORT',
  'FIX',
  'INTRODUCED',
  'GIT',
  'PACKAGE',
  'EVIDENCE',
  'WEB',
]);

export const OsvCreditType = z.enum([
  'FINDER',
  'REPORTER',
  'ANALYST',
  'COORDINATOR',
  'REMEDIATION_DEVELOPER',
  'REMEDIATION_REVIEWER',
  'REMEDIATION_VERIFIER',
  'TOOL',
  'SPONSOR',
  'OTHER',
]);

/** One source of a malicious-packages entry, as that database lists them in `database_specific`. */
export const MaliciousPackagesOrigin = z.object({
  source: z.string().min(1),
  /** Here: the sha256 of the analysed artifact. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  import_time: OsvTime,
  modified_time: OsvTime,
  versions: z.array(z.string().min(1)).optional(),
  ranges: z.array(z.unknown()).optional(),
});

const OsvRange = z.object({
  type: z.enum(['ECOSYSTEM', 'SEMVER', 'GIT']),
  events: z
    .array(
      z.union([
        z.object({ introduced: z.string() }).strict(),
        z.object({ fixed: z.string() }).strict(),
        z.object({ last_affected: z.string() }).strict(),
        z.object({ limit: z.string() }).strict(),
      ]),
    )
    .min(1),
});

const OsvAffected = z
  .object({
    package: z
      .object({ ecosystem: z.literal('PyPI'), name: z.string().min(1), purl: z.string().optional() })
      .strict(),
    versions: z.array(z.string().min(1)).optional(),
    ranges: z.array(OsvRange).optional(),
    database_specific: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .refine(
    (a) => (a.versions?.length ?? 0) > 0 || (a.ranges?.length ?? 0) > 0,
    'versions or ranges are required',
  );

/**
 * The OSV record (schema 1.x) of a malicious PyPI release, in the form the public
 * malicious-packages database keeps (`MAL-` ids, origins and evidence in `database_specific`).
 */
export const OsvRecord = z
  .object({
    schema_version: z.string().regex(/^1\.\d+\.\d+$/),
    /** `MAL-YYYY-N` once the database assigns it; `MAL-0000-...` is the placeholder of a submission. */
    id: z
      .string()
      .regex(/^MAL-\d{4}-[A-Za-z0-9._-]+$/, 'an id such as MAL-2024-1234 or MAL-0000-pkghunt-name-1.0'),
    modified: OsvTime,
    published: OsvTime,
    withdrawn: OsvTime.optional(),
    aliases: z.array(z.string()).optional(),
    summary: z.string().min(1),
    details: z.string().min(1),
    affected: z.array(OsvAffected).min(1),
    references: z.array(z.object({ type: OsvReferenceType, url: z.string().url() }).strict()).optional(),
    credits: z
      .array(
        z
          .object({
            name: z.string().min(1),
            contact: z.array(z.string()).optional(),
            type: OsvCreditType.optional(),
          })
          .strict(),
      )
      .optional(),
    database_specific: z
      .object({ 'malicious-packages-origins': z.array(MaliciousPackagesOrigin).min(1) })
      .catchall(z.unknown()),
  })
  .strict();
export type OsvRecord = z.infer<typeof OsvRecord>;

export const OSV_SCHEMA_VERSION = '1.5.0';
