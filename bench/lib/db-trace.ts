/**
 * Measures the devserver's database writes without changing devserver/: wraps `PgStore.prototype.write` (the one
 * statement per engine batch, see flushLoop in devserver/engine/engine.ts) and counts batches, rows and time.
 * Must be installed in the process that runs the devserver, before it starts.
 */
import { performance } from 'node:perf_hooks';
import { PgStore } from '../../devserver/store/pg-store.js';

export interface DbTrace {
  /** batches written */
  writes: number;
  /** history event rows */
  events: number;
  /** execution rows (one per changed run per batch) */
  executions: number;
  /** bytes of execution state JSON */
  stateBytes: number;
  /** total ms spent in write (the engine writes one batch at a time, so this is also the busy time of the writer) */
  writeMs: number;
  /** each write's duration in ms, for percentiles */
  durations: number[];
}

const trace: DbTrace = { writes: 0, events: 0, executions: 0, stateBytes: 0, writeMs: 0, durations: [] };
let installed = false;

export function installDbTrace(): void {
  if (installed) return;
  installed = true;
  const original = PgStore.prototype.write;
  PgStore.prototype.write = async function tracedWrite(this: PgStore, batch) {
    const t0 = performance.now();
    try {
      return await original.call(this, batch);
    } finally {
      const ms = performance.now() - t0;
      trace.writes += 1;
      trace.events += batch.events.length;
      trace.executions += batch.executions.length;
      for (const x of batch.executions) trace.stateBytes += x.state.length;
      trace.writeMs += ms;
      trace.durations.push(ms);
    }
  };
}

export function dbTraceSnapshot(): DbTrace {
  return { ...trace, durations: [...trace.durations] };
}

/** The difference between two snapshots (durations: those recorded after `before`). */
export function dbTraceDelta(after: DbTrace, before: DbTrace): DbTrace {
  return {
    writes: after.writes - before.writes,
    events: after.events - before.events,
    executions: after.executions - before.executions,
    stateBytes: after.stateBytes - before.stateBytes,
    writeMs: after.writeMs - before.writeMs,
    durations: after.durations.slice(before.durations.length),
  };
}
