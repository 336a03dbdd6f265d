/**
 * What a run's targets are doing right now, read from Temporal: each target's child workflow, its pending activities
 * and their last heartbeat (an export heartbeats the rows and bytes written; a refresh the object it builds; a
 * latency measurement the query and sample). `lastmile run` prints it as it changes; `lastmile dev` shows it in its
 * table. Read-only and best effort: a target whose workflow cannot be described yet just has no progress.
 */
import type { Client } from '@temporalio/client';
import { targetWorkflowId } from '../../workflows/ids.js';

export interface TargetProgress {
  target: string;
  /** the activity in hand, e.g. `exportPartition` */
  activity: string;
  /** one short phrase: `1,234,567 rows, 120 MB, 98,000 rows/s` */
  text: string;
}

interface Seen {
  rows: number;
  at: number;
}

export class RunProgress {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly client: Client,
    private readonly run: { env: string; product: string; runKey: string },
  ) {}

  /** The progress of each target still being served (by kind), now. */
  async read(targets: readonly { name: string; kind: string }[]): Promise<TargetProgress[]> {
    const found: TargetProgress[] = [];
    for (const target of targets) {
      const id = targetWorkflowId(this.run.env, this.run.product, target.name, this.run.runKey, target.kind);
      let pending: readonly { activityType?: { name?: string | null } | null; heartbeatDetails?: { payloads?: { data?: Uint8Array | null }[] | null } | null; attempt?: number | null }[];
      try {
        const described = await this.client.workflow.getHandle(id).describe();
        if (described.status.name !== 'RUNNING') continue;
        pending = described.raw.pendingActivities ?? [];
      } catch {
        continue;
      }
      for (const activity of pending) {
        const name = activity.activityType?.name ?? 'activity';
        const details = decode(activity.heartbeatDetails?.payloads?.[0]?.data);
        found.push({ target: target.name, activity: name, text: this.describe(`${target.name}/${name}`, details, activity.attempt ?? 1) });
      }
    }
    return found;
  }

  private describe(key: string, details: unknown, attempt: number): string {
    const parts: string[] = [];
    const record = typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : {};
    if (typeof record.rows === 'number') {
      parts.push(`${record.rows.toLocaleString('en-US')} rows`);
      if (typeof record.bytes === 'number') parts.push(bytes(record.bytes));
      const now = Date.now();
      const before = this.seen.get(key);
      if (before && now > before.at && record.rows >= before.rows) {
        parts.push(`${Math.round(((record.rows - before.rows) * 1000) / (now - before.at)).toLocaleString('en-US')} rows/s`);
      }
      this.seen.set(key, { rows: record.rows, at: now });
    }
    if (typeof record.batches === 'number' && typeof record.of === 'number' && record.of > 0) parts.push(`${record.batches} of ${record.of} batches sent`);
    if (typeof record.object === 'string') parts.push(`building ${record.object}`);
    if (typeof record.query === 'string') parts.push(`timing ${record.query}${typeof record.sample === 'number' ? ` (sample ${record.sample + 1})` : ''}`);
    if (attempt > 1) parts.push(`attempt ${attempt}`);
    return parts.join(', ') || 'working';
  }
}

function decode(data: Uint8Array | null | undefined): unknown {
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}

function bytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}
