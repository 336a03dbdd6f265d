/** `lastmile.file_manifests`: one row per published file of a files target's version. */
import type pg from 'pg';

export interface PublishedFile {
  runId: string;
  product: string;
  env: string;
  target: string;
  /** the object key, relative to the destination */
  path: string;
  format: string;
  rows: number;
  bytes: number;
  sha256: string;
  detail: Record<string, unknown>;
}

/** Records the files of a version as published; a retried publish updates its rows in place. */
export async function recordPublishedFiles(pool: pg.Pool, files: readonly PublishedFile[]): Promise<void> {
  for (const file of files) {
    await pool.query(
      `insert into lastmile.file_manifests (run_id, product, env, target, path, format, rows, bytes, sha256, published, detail)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, true, $10::jsonb)
       on conflict (run_id, target, path) do update set rows = excluded.rows, bytes = excluded.bytes, sha256 = excluded.sha256,
         published = true, detail = excluded.detail`,
      [file.runId, file.product, file.env, file.target, file.path, file.format, file.rows, file.bytes, file.sha256, JSON.stringify(file.detail)],
    );
  }
}

/** Marks a revoked version's files unpublished; returns how many rows it marked. */
export async function markRevoked(pool: pg.Pool, where: { runId: string; env: string; product: string; target: string }): Promise<number> {
  const marked = await pool.query(
    `update lastmile.file_manifests
        set published = false, detail = coalesce(detail, '{}'::jsonb) || jsonb_build_object('revokedAt', now())
      where run_id = $1 and env = $2 and product = $3 and target = $4`,
    [where.runId, where.env, where.product, where.target],
  );
  return marked.rowCount ?? 0;
}
