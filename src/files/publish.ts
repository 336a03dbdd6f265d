/**
 * Versioned, atomic publishing of a files target, as plain functions over a Destination. A run
 *   1. `cleanupIncomplete(dest, runId)` — once, before any file: removes what an earlier attempt of this run left;
 *   2. writes its files under `versionPrefix(runId)` (`v=<runId>/`);
 *   3. `writeManifest` — `v=<runId>/_manifest.json`: what the version holds, with sizes and sha256 checksums;
 *   4. `verifyVersion` — re-reads the manifest and checks every file's size and checksum;
 *   5. `movePointer` — replaces `_latest.json` in one atomic write: from now on readers get the new version.
 * A reader follows `_latest.json` → manifest → files, so it never sees a partial version; a run failing before step 5
 * leaves the previous version current. Every step is idempotent, so a retried activity may simply run it again.
 */
import { createHash } from 'node:crypto';
import type { Destination, ObjectInfo } from './destination.js';
import { DestinationError, mapLimit } from './destinations/common.js';
import {
  MANIFEST_NAME,
  POINTER_KEY,
  checkRunId,
  manifestKey,
  manifestProblems,
  pointerRunId,
  versionPrefix,
  type Manifest,
  type Pointer,
} from './manifest.js';

export { versionPrefix } from './manifest.js';
export type { Manifest, ManifestFile, Pointer } from './manifest.js';

/** HEADs (and local re-hashes) in flight at once while verifying. */
const VERIFY_CONCURRENCY = 8;
const DAY_MS = 24 * 3600 * 1000;

export type Verification = { ok: true; manifest: Manifest } | { ok: false; problems: string[] };

/** Writes `v=<runId>/_manifest.json` (atomic replace). Throws a non-retryable error when the manifest is inconsistent. */
export async function writeManifest(dest: Destination, manifest: Manifest): Promise<ObjectInfo> {
  checkRunId(manifest.runId);
  const problems = manifestProblems(manifest, manifest.runId);
  if (problems.length > 0) {
    throw new DestinationError(`${dest.description}: the manifest of v=${manifest.runId} is not valid: ${problems.join('; ')}.`, { retryable: false });
  }
  return dest.putJson(manifestKey(manifest.runId), manifest);
}

/**
 * Re-reads the manifest of `runId` and checks every file it lists: present, the size it says, the sha256 it says
 * (S3: HEAD size and `sha256` metadata; local, or an object without that metadata: re-hash the bytes), and nothing
 * else under the version's folder. Problems name the key. Errors a retry may fix (the store unreachable) are thrown.
 */
export async function verifyVersion(dest: Destination, runId: string): Promise<Verification> {
  const key = manifestKey(runId);
  let raw: unknown;
  try {
    raw = await dest.getJson<unknown>(key);
  } catch (error) {
    if (error instanceof DestinationError && !error.retryable) return { ok: false, problems: [`${key}: ${error.message}`] };
    throw error;
  }
  if (raw === undefined) return { ok: false, problems: [`${key}: missing (the manifest was never written, or was deleted)`] };
  const shape = manifestProblems(raw, runId);
  if (shape.length > 0) return { ok: false, problems: shape.map((p) => `${key}: ${p}`) };
  const manifest = raw as Manifest;

  const problems: string[] = [];
  await mapLimit(manifest.files, VERIFY_CONCURRENCY, async (file) => {
    const info = await dest.head(file.key);
    if (!info) {
      problems.push(`${file.key}: missing`);
      return;
    }
    if (info.bytes !== file.bytes) {
      problems.push(`${file.key}: ${info.bytes} bytes, but the manifest says ${file.bytes}`);
      return;
    }
    const sha256 = info.sha256 ?? (await hashObject(dest, file.key));
    if (sha256 !== file.sha256) problems.push(`${file.key}: sha256 ${sha256}, but the manifest says ${file.sha256}`);
  });
  const listed = new Set(manifest.files.map((f) => f.key));
  for await (const object of dest.list(versionPrefix(runId))) {
    if (object.key !== key && !listed.has(object.key)) problems.push(`${object.key}: not in the manifest`);
  }
  return problems.length === 0 ? { ok: true, manifest } : { ok: false, problems: problems.sort() };
}

/**
 * Points `_latest.json` at `runId` (one atomic replace). Call it after `verifyVersion` passed. A no-op when it already
 * points there. Refuses (non-retryable) when the version has no valid manifest, or when the current version's manifest
 * is newer — an older run finishing late never hides a newer version (use `revokeVersion` to go back).
 */
export async function movePointer(dest: Destination, runId: string): Promise<void> {
  const manifest = await readManifest(dest, runId);
  if (!manifest) {
    throw new DestinationError(
      `${dest.description}: v=${runId} has no valid manifest, so _latest.json cannot point at it. Write the manifest and verify the version first.`,
      { retryable: false },
    );
  }
  const current = await readPointer(dest, true);
  if (current === runId) return;
  if (current !== undefined) {
    const currentManifest = await readManifest(dest, current);
    if (manifest.env !== undefined) refuseCrossing(dest, manifest.env, current, currentManifest);
    if (currentManifest && Date.parse(currentManifest.createdAt) > Date.parse(manifest.createdAt)) {
      throw new DestinationError(
        `${dest.description}: v=${current} (created ${currentManifest.createdAt}) is newer than v=${runId} (created ${manifest.createdAt}) ` +
          `and stays current; the older version is kept but not published.`,
        { retryable: false },
      );
    }
  }
  await pointTo(dest, runId);
}

/**
 * Throws (non-retryable) when the destination is another environment's place — its current version was published
 * by another environment — before `env` writes anything there. Environments never cross: a mapping that sends two
 * environments to one place is a configuration error, said as such.
 */
export async function assertOwnPlace(dest: Destination, env: string): Promise<void> {
  const current = await readPointer(dest, true);
  if (current !== undefined) refuseCrossing(dest, env, current, await readManifest(dest, current));
}

function refuseCrossing(dest: Destination, env: string, current: string, currentManifest: Manifest | undefined): void {
  const owner = currentManifest?.env;
  if (owner === undefined || owner === env) return;
  throw new DestinationError(
    `${dest.description} is where environment ${owner} publishes (its current version v=${current} is ${owner}'s), ` +
      `so ${env} does not publish there. Give ${env} a place of its own in lastmile.config.ts (environments.${env}.destinations), or remove the mapping that sends it here.`,
    { retryable: false },
  );
}

/** The run id `_latest.json` points at, or undefined when nothing is published. */
export async function currentVersion(dest: Destination): Promise<string | undefined> {
  return readPointer(dest);
}

/**
 * The versions that have a manifest (a version still being written, or whose manifest is missing, is not one),
 * oldest first by the manifest's `createdAt`, and which one `_latest.json` points at.
 */
export async function listVersions(dest: Destination): Promise<{ runId: string; createdAt: Date; current: boolean; env?: string }[]> {
  const found: { runId: string; modified: Date }[] = [];
  const manifestAt = new RegExp(`^v=([^/]+)/${MANIFEST_NAME.replace('.', '\\.')}$`);
  for await (const object of dest.list('v=')) {
    const runId = manifestAt.exec(object.key)?.[1];
    if (runId !== undefined) found.push({ runId, modified: object.modified });
  }
  const current = await readPointer(dest);
  const versions = await mapLimit(found, VERIFY_CONCURRENCY, async ({ runId, modified }) => {
    const manifest = await readManifest(dest, runId);
    // An unreadable manifest still makes a version retention can remove: its age is the manifest object's.
    const createdAt = manifest ? new Date(manifest.createdAt) : modified;
    return { runId, createdAt, current: runId === current, ...(manifest?.env !== undefined && { env: manifest.env }) };
  });
  return versions.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
}

/**
 * Deletes whole versions the policy no longer keeps and returns their run ids (oldest first). A version stays when
 * it is current, among the newest `keepLast`, or younger than `keepDays` at `now` (by its manifest's `createdAt`);
 * with neither limit nothing is deleted. Versions without a manifest are left to `cleanupIncomplete`. With `env`,
 * only that environment's versions are counted and deleted: retention never reaches another environment's (nor a
 * version whose manifest names none). Idempotent.
 */
export async function applyRetention(dest: Destination, policy: { keepLast?: number; keepDays?: number }, now: Date, env?: string): Promise<string[]> {
  const { keepLast, keepDays } = policy;
  if (keepLast !== undefined && (!Number.isInteger(keepLast) || keepLast < 0)) {
    throw new DestinationError(`${dest.description}: retention keepLast must be a whole number of versions, 0 or more, not ${keepLast}.`, { retryable: false });
  }
  if (keepDays !== undefined && !(keepDays > 0)) {
    throw new DestinationError(`${dest.description}: retention keepDays must be more than 0, not ${keepDays}.`, { retryable: false });
  }
  if (keepLast === undefined && keepDays === undefined) return [];
  const versions = (await listVersions(dest)).filter((v) => env === undefined || v.env === env);
  const keep = new Set<string>();
  if (keepLast !== undefined) for (const v of versions.slice(Math.max(0, versions.length - keepLast))) keep.add(v.runId);
  if (keepDays !== undefined) for (const v of versions) if (now.getTime() - v.createdAt.getTime() < keepDays * DAY_MS) keep.add(v.runId);
  const deleted: string[] = [];
  for (const version of versions) {
    if (version.current || keep.has(version.runId)) continue;
    // Read the pointer again: a version made current meanwhile (a revoke going back) stays.
    if ((await readPointer(dest)) === version.runId) continue;
    await deleteVersion(dest, version.runId);
    deleted.push(version.runId);
  }
  return deleted;
}

/**
 * Takes a version back: deletes its objects. When it was current, `_latest.json` first moves to the newest remaining
 * version that verifies, or is removed when there is none — readers never follow a pointer to a deleted version.
 * Returns how many objects were deleted and the run id `_latest.json` points at afterwards. Idempotent.
 */
export async function revokeVersion(dest: Destination, runId: string): Promise<{ deleted: number; pointer: string | undefined }> {
  checkRunId(runId);
  let pointer = await readPointer(dest);
  if (pointer === runId) {
    pointer = undefined;
    const candidates = (await listVersions(dest)).filter((v) => v.runId !== runId).reverse();
    for (const candidate of candidates) {
      if ((await verifyVersion(dest, candidate.runId)).ok) {
        pointer = candidate.runId;
        break;
      }
    }
    if (pointer !== undefined) await pointTo(dest, pointer);
    else await dest.delete([POINTER_KEY]);
  }
  const deleted = await deleteVersion(dest, runId);
  return { deleted, pointer };
}

/**
 * Presigned download links to every file of a version, per consumer: `{ consumer: [{ key, url, expiresAt }] }`.
 * S3 only: a local folder has no links, and says so.
 */
export async function consumerLinks(
  dest: Destination,
  runId: string,
  consumers: string[],
  expiresInSeconds: number,
): Promise<Record<string, { key: string; url: string; expiresAt: string }[]>> {
  if (!dest.presign) {
    throw new DestinationError(
      `${dest.description} is a local folder, which has no download links: consumers read the files in place. ` +
        `Serve to an s3:// bucket to give consumers presigned links, or remove \`consumers\` from the target.`,
      { retryable: false },
    );
  }
  const manifest = await readManifest(dest, runId);
  if (!manifest) {
    throw new DestinationError(`${dest.description}: v=${runId} has no valid manifest, so there is nothing to link to.`, { retryable: false });
  }
  const links: Record<string, { key: string; url: string; expiresAt: string }[]> = {};
  for (const consumer of consumers) {
    links[consumer] = [];
    for (const file of manifest.files) {
      const expiresAt = new Date(Date.now() + expiresInSeconds * 1000).toISOString();
      links[consumer].push({ key: file.key, url: await dest.presign(file.key, expiresInSeconds), expiresAt });
    }
  }
  return links;
}

/**
 * Deletes everything under `v=<runId>/` — objects, manifest, leftovers of interrupted writes — so a retried or killed
 * run starts its version afresh. Call it once per run before its files are written (not per file: it would delete
 * the others). Refuses (non-retryable) when the version is current. Returns how many objects it removed.
 */
export async function cleanupIncomplete(dest: Destination, runId: string): Promise<number> {
  checkRunId(runId);
  if ((await readPointer(dest, true)) === runId) {
    throw new DestinationError(
      `${dest.description}: v=${runId} is the published version; it is not incomplete. Use revokeVersion to take it back.`,
      { retryable: false },
    );
  }
  const deleted = await deleteVersion(dest, runId);
  return deleted + (await dest.sweep(versionPrefix(runId)));
}

/**
 * The run id of `_latest.json`; undefined when there is none. Throws (non-retryable) when it is not a pointer, unless
 * `lenient` (publishing a version repairs a broken pointer).
 */
async function readPointer(dest: Destination, lenient = false): Promise<string | undefined> {
  let pointer: Pointer | undefined;
  try {
    pointer = await dest.getJson<Pointer>(POINTER_KEY);
  } catch (error) {
    if (lenient && error instanceof DestinationError && !error.retryable) return undefined;
    throw error;
  }
  if (pointer === undefined) return undefined;
  const runId = typeof pointer === 'object' && pointer !== null && typeof pointer.version === 'string' ? pointerRunId(pointer) : undefined;
  if (runId === undefined && !lenient) {
    throw new DestinationError(
      `${dest.description}: ${POINTER_KEY} is not a lastmile pointer (expected { "version": "v=<runId>", "manifest": "v=<runId>/${MANIFEST_NAME}", ... }). ` +
        `Restore it, or delete it and publish again.`,
      { retryable: false },
    );
  }
  return runId;
}

async function pointTo(dest: Destination, runId: string): Promise<void> {
  const pointer: Pointer = { version: `v=${runId}`, manifest: manifestKey(runId), publishedAt: new Date().toISOString() };
  await dest.putJson(POINTER_KEY, pointer);
}

/** The manifest of `runId` when it is there and valid. */
async function readManifest(dest: Destination, runId: string): Promise<Manifest | undefined> {
  let raw: unknown;
  try {
    raw = await dest.getJson<unknown>(manifestKey(runId));
  } catch (error) {
    if (error instanceof DestinationError && !error.retryable) return undefined;
    throw error;
  }
  return raw !== undefined && manifestProblems(raw, runId).length === 0 ? (raw as Manifest) : undefined;
}

/** Deletes a version's objects, the manifest last: a deletion cut short stays listed, and the next one finishes it. */
async function deleteVersion(dest: Destination, runId: string): Promise<number> {
  const manifest = manifestKey(runId);
  const keys: string[] = [];
  let hasManifest = false;
  for await (const object of dest.list(versionPrefix(runId))) {
    if (object.key === manifest) hasManifest = true;
    else keys.push(object.key);
  }
  await dest.delete(keys);
  if (hasManifest) await dest.delete([manifest]);
  return keys.length + (hasManifest ? 1 : 0);
}

async function hashObject(dest: Destination, key: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of dest.read(key)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
