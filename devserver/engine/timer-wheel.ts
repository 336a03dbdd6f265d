/** Deadlines in a binary heap behind one `setTimeout`. Entries are checked against state when they fire. */
export interface Deadline {
  at: number;
  fire: () => void;
}

export class TimerWheel {
  private heap: Deadline[] = [];
  private handle: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private stopped = false;

  constructor(private readonly now: () => number = Date.now) {}

  add(at: number, fire: () => void): void {
    if (this.stopped) return;
    const entry = { at, fire };
    this.heap.push(entry);
    this.up(this.heap.length - 1);
    if (at < this.armedAt) this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
    this.heap = [];
  }

  get size(): number {
    return this.heap.length;
  }

  private arm(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    this.armedAt = Infinity;
    const first = this.heap[0];
    if (!first || this.stopped) return;
    this.armedAt = first.at;
    const delay = Math.max(0, Math.min(first.at - this.now(), 2 ** 31 - 1));
    this.handle = setTimeout(() => this.run(), delay);
    this.handle.unref();
  }

  private run(): void {
    this.handle = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    const due: Deadline[] = [];
    while (this.heap.length > 0 && this.heap[0].at <= now) due.push(this.pop());
    for (const entry of due) {
      try {
        entry.fire();
      } catch (error) {
        process.emitWarning(`devserver timer failed: ${error instanceof Error ? error.stack : String(error)}`);
      }
    }
    this.arm();
  }

  private pop(): Deadline {
    const top = this.heap[0];
    const last = this.heap.pop() as Deadline;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= h[i].at) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].at < h[m].at) m = l;
      if (r < h.length && h[r].at < h[m].at) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
}
