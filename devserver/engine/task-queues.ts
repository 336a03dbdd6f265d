/**
 * In-memory task queues with long-poll waiters. A queue holds task references; the engine checks each one against
 * the execution's state when it is handed out, so stale entries are skipped rather than removed eagerly.
 */
export interface Poller<T> {
  deliver(task: T): void;
  /** true once the poll's call is gone (cancelled by the client, or answered empty) */
  isClosed(): boolean;
  /** answers the poll empty at once (worker shutdown) */
  end(): void;
  workerInstanceKey?: string;
  identity?: string;
}

class Queue<T> {
  tasks: T[] = [];
  head = 0;
  pollers: Poller<T>[] = [];

  shift(): T | undefined {
    if (this.head >= this.tasks.length) return undefined;
    const task = this.tasks[this.head++];
    if (this.head > 1024 && this.head * 2 > this.tasks.length) {
      this.tasks = this.tasks.slice(this.head);
      this.head = 0;
    }
    return task;
  }

  get backlog(): number {
    return this.tasks.length - this.head;
  }
}

export class TaskQueues<T> {
  private readonly queues = new Map<string, Queue<T>>();
  /** per queue: identity of each poller → when it last polled (for DescribeTaskQueue) */
  private readonly seen = new Map<string, Map<string, number>>();

  /** Records that `identity` polled `key` at `at`. */
  notePoller(key: string, identity: string, at: number): void {
    let byIdentity = this.seen.get(key);
    if (!byIdentity) this.seen.set(key, (byIdentity = new Map()));
    byIdentity.set(identity, at);
  }

  /** Pollers of `key` seen at or after `since`, most recent first. */
  recentPollers(key: string, since: number): { identity: string; at: number }[] {
    const byIdentity = this.seen.get(key);
    if (!byIdentity) return [];
    const out: { identity: string; at: number }[] = [];
    for (const [identity, at] of byIdentity) {
      if (at >= since) out.push({ identity, at });
      else byIdentity.delete(identity);
    }
    return out.sort((a, b) => b.at - a.at);
  }

  private queue(key: string): Queue<T> {
    let q = this.queues.get(key);
    if (!q) {
      q = new Queue<T>();
      this.queues.set(key, q);
    }
    return q;
  }

  /** Hands the task to a waiting poller, or keeps it for the next poll. */
  push(key: string, task: T): void {
    const q = this.queue(key);
    while (q.pollers.length > 0) {
      const poller = q.pollers.shift() as Poller<T>;
      if (poller.isClosed()) continue;
      poller.deliver(task);
      return;
    }
    q.tasks.push(task);
  }

  /** Takes the next task that `usable` accepts, or undefined. */
  take(key: string, usable: (task: T) => boolean): T | undefined {
    const q = this.queues.get(key);
    if (!q) return undefined;
    for (let task = q.shift(); task !== undefined; task = q.shift()) {
      if (usable(task)) return task;
    }
    return undefined;
  }

  wait(key: string, poller: Poller<T>): void {
    this.queue(key).pollers.push(poller);
  }

  removePoller(key: string, poller: Poller<T>): void {
    const q = this.queues.get(key);
    if (!q) return;
    const i = q.pollers.indexOf(poller);
    if (i >= 0) q.pollers.splice(i, 1);
  }

  /** All waiting pollers matching `predicate`, removed from their queues (for ShutdownWorker). */
  drainPollers(predicate: (poller: Poller<T>) => boolean): Poller<T>[] {
    const drained: Poller<T>[] = [];
    for (const q of this.queues.values()) {
      const keep: Poller<T>[] = [];
      for (const p of q.pollers) (predicate(p) ? drained : keep).push(p);
      q.pollers = keep;
    }
    return drained;
  }

  backlog(key: string): number {
    return this.queues.get(key)?.backlog ?? 0;
  }

  pollerCount(key: string): number {
    return this.queues.get(key)?.pollers.length ?? 0;
  }
}
