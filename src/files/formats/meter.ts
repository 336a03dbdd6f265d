/** Counting what an export writes: bytes and SHA-256 on the way to the sink, csv records, progress once a second. */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { ExportProgress } from './types.js';

/** Passes bytes through unchanged, counting them and hashing them (the last stage before the sink). */
export class ByteMeter extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

const QUOTE = 0x22;
const NEWLINE = 0x0a;

/**
 * Counts the records of Postgres csv output as it passes (for progress; the final count is COPY's own): a newline
 * ends a record unless it stands inside a quoted field. Doubled quotes inside a field toggle twice, so tracking
 * "inside quotes" by toggling on every quote is exact.
 */
export class CsvRecordCounter extends Transform {
  /** Records seen, the header included. */
  records = 0;
  private quoted = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let i = 0;
    let nextQuote = chunk.indexOf(QUOTE, 0);
    while (i < chunk.length) {
      if (this.quoted) {
        if (nextQuote === -1) break;
        this.quoted = false;
        i = nextQuote + 1;
        nextQuote = chunk.indexOf(QUOTE, i);
        continue;
      }
      const newline = chunk.indexOf(NEWLINE, i);
      if (newline === -1 && nextQuote === -1) break;
      if (nextQuote !== -1 && (newline === -1 || nextQuote < newline)) {
        this.quoted = true;
        i = nextQuote + 1;
        nextQuote = chunk.indexOf(QUOTE, i);
      } else {
        this.records += 1;
        i = newline + 1;
      }
    }
    callback(null, chunk);
  }
}

/** Calls `report` with `read()` once a second until stopped; `stop()` reports a last time (the final figures). */
export function progressTicker(read: () => ExportProgress, report: ((p: ExportProgress) => void) | undefined): { stop(final: boolean): void } {
  if (!report) return { stop: () => undefined };
  // A throwing callback must not take the process down from a timer; the export goes on.
  const tick = (): void => {
    try {
      report(read());
    } catch {
      // ignored
    }
  };
  const timer = setInterval(tick, 1000);
  timer.unref();
  return {
    stop(final) {
      clearInterval(timer);
      if (final) tick();
    },
  };
}
