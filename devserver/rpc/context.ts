/** What a handler knows about its call: when the client stops waiting, and whether it already has. */
export interface CallContext {
  /** ms since epoch when the client's deadline passes (Infinity when none) */
  deadline: number;
  isCancelled(): boolean;
  onCancel(listener: () => void): void;
}

/** How long a long poll may wait: until shortly before the client's deadline, at most `max`. */
export function longPollWait(ctx: CallContext, max: number): number {
  const remaining = ctx.deadline === Infinity ? max : ctx.deadline - Date.now() - 1000;
  return Math.max(0, Math.min(max, remaining));
}

export type Handler<Req> = (request: Req, ctx: CallContext) => Promise<Record<string, unknown>> | Record<string, unknown>;
