import { proxyActivities } from '@temporalio/workflow';
import type { FileActivities } from '../activities/files/file-activities.js';
import type { ExportedFile, ServeTargetInput, TargetResult } from './types.js';
import { INPUT_ERROR } from './errors.js';

/** How many partitions are exported at the same time. */
export const EXPORT_CONCURRENCY = 4;

const files = proxyActivities<FileActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: [INPUT_ERROR, 'LastmileVerifyError'] },
});

// One attempt per partition may run long; its heartbeats (rows and bytes written) tell Temporal it is alive, so a
// killed worker is noticed within the heartbeat timeout and the partition is written again from the start.
const exporter = proxyActivities<FileActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2s', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: [INPUT_ERROR] },
});

/**
 * Serves a `files` target: plans the partitions, writes each one as a file under `v=<runId>/` (in parallel, one
 * activity each), then publishes the version — manifest, verification of every file, the `_latest.json` pointer — and
 * applies the retention. A reader following `_latest.json` only ever sees complete versions; a failed run leaves the
 * previous version current.
 */
export async function fileExchange(input: ServeTargetInput): Promise<TargetResult> {
  const plan = await files.planExport(input);
  const written: ExportedFile[] = new Array(plan.partitions.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < plan.partitions.length) {
      const index = next++;
      written[index] = await exporter.exportPartition({ ...input, partition: plan.partitions[index]! });
    }
  };
  await Promise.all(Array.from({ length: Math.min(EXPORT_CONCURRENCY, plan.partitions.length) }, lane));
  const published = await files.publishVersion({ ...input, files: written });
  const removed = await files.applyRetention(input);
  const rows = written.reduce((sum, f) => sum + f.rows, 0);
  const bytes = written.reduce((sum, f) => sum + f.bytes, 0);
  return {
    name: input.target,
    kind: 'files',
    status: 'succeeded',
    rows,
    bytes,
    detail:
      `published ${published.version} (${written.length} ${written.length === 1 ? 'file' : 'files'}) to ${plan.destination}` +
      (published.consumers > 0 ? `; download links for ${published.consumers} ${published.consumers === 1 ? 'consumer' : 'consumers'} in lastmile.file_manifests` : '') +
      (removed.length > 0 ? `; retention removed ${removed.length} older ${removed.length === 1 ? 'version' : 'versions'}` : ''),
  };
}
