/**
 * The published shape of a files target's version: `v=<runId>/_manifest.json` says what the version holds, and
 * `_latest.json` at the destination's root points at the current version. Consumers read these two files; keep them
 * backwards compatible (add fields, never rename or drop one).
 */
import { z } from 'zod';
import { DestinationError } from './destinations/common.js';

/** The pointer to the current version, at the destination's root. */
export const POINTER_KEY = '_latest.json';
/** The manifest's name inside a version's folder. */
export const MANIFEST_NAME = '_manifest.json';

export interface ManifestFile {
  /** relative to the destination's root: `v=<runId>/<file name>` */
  key: string;
  rows: number;
  bytes: number;
  /** hex */
  sha256: string;
  /** the splitBy value or the part number this file holds */
  partition?: string;
}

export interface Manifest {
  product: string;
  /** the environment that published the version (absent in versions lastmile wrote before environments were recorded) */
  env?: string;
  /** the product's semantic version */
  version: string;
  /** the commit the product was served from, when known */
  gitSha: string | null;
  target: string;
  runId: string;
  /** ISO 8601; retention measures a version's age from it */
  createdAt: string;
  schema: { name: string; type: string }[];
  format: string;
  compression: string;
  files: ManifestFile[];
  /** the sum over `files` */
  rows: number;
  /** the sum over `files` */
  bytes: number;
  /** the checks' summary of the run, as given */
  checks: unknown;
}

/** `_latest.json` */
export interface Pointer {
  /** `v=<runId>` */
  version: string;
  /** `v=<runId>/_manifest.json` */
  manifest: string;
  /** ISO 8601 */
  publishedAt: string;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Throws a non-retryable error unless `runId` can name a version folder (letters, digits, '.', '_', '-'). */
export function checkRunId(runId: string): void {
  if (typeof runId !== 'string' || !RUN_ID.test(runId)) {
    throw new DestinationError(
      `The run id ${JSON.stringify(runId)} cannot name a version folder: use 1 to 128 letters, digits, '.', '_' and '-', starting with a letter or digit.`,
      { retryable: false },
    );
  }
}

/** `v=<runId>/` — where a run's files go, relative to the destination's root. */
export function versionPrefix(runId: string): string {
  checkRunId(runId);
  return `v=${runId}/`;
}

/** `v=<runId>/_manifest.json` */
export function manifestKey(runId: string): string {
  return `${versionPrefix(runId)}${MANIFEST_NAME}`;
}

/** The run id of a pointer's `version` (`v=<runId>`), or undefined when it is not one. */
export function pointerRunId(pointer: Pointer): string | undefined {
  const runId = /^v=(.+)$/.exec(pointer.version)?.[1];
  return runId !== undefined && RUN_ID.test(runId) && pointer.manifest === `v=${runId}/${MANIFEST_NAME}` ? runId : undefined;
}

const count = z.number().int().nonnegative();
const manifestSchema = z.object({
  product: z.string().min(1),
  env: z.string().min(1).optional(),
  version: z.string(),
  gitSha: z.string().nullable(),
  target: z.string().min(1),
  runId: z.string(),
  createdAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'is not an ISO 8601 time'),
  schema: z.array(z.object({ name: z.string(), type: z.string() })),
  format: z.string(),
  compression: z.string(),
  files: z.array(
    z.object({
      key: z.string(),
      rows: count,
      bytes: count,
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'is not a hex sha256'),
      partition: z.string().optional(),
    }),
  ),
  rows: count,
  bytes: count,
  checks: z.unknown(),
});

/**
 * What is wrong with a manifest of `runId`, one sentence each (empty when nothing): its shape, a run id of another
 * version, file keys outside the version's folder or twice, totals that are not the sums over the files.
 */
export function manifestProblems(value: unknown, runId: string): string[] {
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => `manifest field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const manifest = parsed.data;
  const problems: string[] = [];
  if (manifest.runId !== runId) problems.push(`manifest runId is '${manifest.runId}', not '${runId}'`);
  const prefix = versionPrefix(runId);
  const seen = new Set<string>();
  for (const file of manifest.files) {
    const name = file.key.slice(prefix.length);
    if (!file.key.startsWith(prefix) || name === MANIFEST_NAME || name.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      problems.push(`manifest file key '${file.key}' is not a file under ${prefix}`);
    }
    if (seen.has(file.key)) problems.push(`manifest lists '${file.key}' twice`);
    seen.add(file.key);
  }
  const rows = manifest.files.reduce((sum, f) => sum + f.rows, 0);
  const bytes = manifest.files.reduce((sum, f) => sum + f.bytes, 0);
  if (rows !== manifest.rows) problems.push(`manifest rows is ${manifest.rows}, but its files hold ${rows}`);
  if (bytes !== manifest.bytes) problems.push(`manifest bytes is ${manifest.bytes}, but its files hold ${bytes}`);
  return problems;
}
