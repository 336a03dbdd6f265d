/** A product's incidents: one open incident per key, so a continuing breach alerts once, and its resolution. */
import type { AlertStore, IncidentInput } from '../alerts/index.js';
import type { RunRecord } from '../meta/types.js';
import type { Product } from '../product/model.js';
import { durationMs } from '../time/duration.js';
import type { SloStatus } from './evaluate.js';
import { percent, span } from './format.js';

/** Opens and resolves a product's incidents; one open incident per key, so a continuing breach alerts once. */
export class Incidents {
  constructor(
    private readonly store: AlertStore,
    private readonly channels: readonly string[],
    private readonly env: string,
    private readonly product: Product,
  ) {}

  private key(...parts: string[]): string {
    return [this.env, this.product.name, ...parts].join('/');
  }

  private get who(): string {
    return `${this.product.name} in ${this.env}`;
  }

  /** The breach incident of one SLO. */
  private breach(status: SloStatus, severity: IncidentInput['severity'], message: string, detail: IncidentInput['detail']): Omit<IncidentInput, 'env' | 'product'> {
    return { kind: 'breach', slo: status.sli, severity, key: this.key('breach', status.sli), message, detail };
  }

  private async set(open: boolean, incident: Omit<IncidentInput, 'env' | 'product'>, resolveMessage: () => string): Promise<void> {
    if (open) await this.store.open({ ...incident, env: this.env, product: this.product.name }, this.channels);
    else await this.store.resolve(incident.key, resolveMessage(), this.channels);
  }

  /** A delivery deadline passed without a delivery: open until a delivery arrives. */
  async deadline(status: SloStatus, missed: { deadline: Date; deliveredAt?: Date } | undefined, deliverBy: string): Promise<void> {
    const open = missed !== undefined && missed.deliveredAt === undefined;
    await this.set(
      open,
      this.breach(status, 'page', `${this.who} was not delivered by ${deliverBy} (deadline ${missed?.deadline.toISOString() ?? ''})`, {
        deadline: missed?.deadline.toISOString() ?? null,
      }),
      () =>
        missed?.deliveredAt
          ? `${this.who} was delivered at ${missed.deliveredAt.toISOString()}, ${span(missed.deliveredAt.getTime() - missed.deadline.getTime())} after the ${deliverBy} deadline`
          : `${this.who} met its ${deliverBy} deadline`,
    );
  }

  /** The consumers' data is older than the freshness objective right now. */
  async freshness(status: SloStatus, ageMs: number | undefined, objective: string, lastDelivery: RunRecord | undefined): Promise<void> {
    const open = ageMs !== undefined && ageMs > durationMs(objective);
    await this.set(
      open,
      this.breach(
        status,
        'page',
        `${this.who}: the served data is ${span(ageMs ?? 0)} old, over the ${objective} freshness objective (last delivery ${lastDelivery?.finishedAt?.toISOString() ?? 'never'})`,
        { ageSeconds: (ageMs ?? 0) / 1000, objective },
      ),
      () => `${this.who}: the served data is fresh again (${span(ageMs ?? 0)} old, objective ${objective})`,
    );
  }

  /** The error budget over the window is spent. Returns whether it is. */
  async budget(status: SloStatus): Promise<boolean> {
    const open = status.budgetRemaining !== null && status.budgetRemaining <= 0;
    await this.set(
      open,
      this.breach(
        status,
        'ticket',
        `${this.who}: the ${status.slo} error budget is spent — SLI ${percent(status.value ?? 0)} over ${status.window}, objective ${percent(status.objective)}`,
        { value: status.value, objective: status.objective, budgetRemaining: status.budgetRemaining },
      ),
      () => `${this.who}: the ${status.slo} error budget is no longer spent (${percent(status.budgetRemaining ?? 1)} left)`,
    );
    return open;
  }

  /** The multi-window burn-rate rule holds (and the budget is not spent already: that incident says more). */
  async burn(status: SloStatus, spent: boolean): Promise<void> {
    const rates = status.burnRates.map((r) => `${r.rate.toFixed(1)}× over ${r.lookback}`).join(', ');
    await this.set(
      status.fastBurn && !spent,
      {
        kind: 'burn',
        slo: status.sli,
        severity: 'page',
        key: this.key('burn', status.sli),
        message: `${this.who}: ${status.slo} is burning its error budget fast (${rates})`,
        detail: { burnRates: status.burnRates.map((r) => ({ lookback: r.lookback, rate: r.rate })) },
      },
      () =>
        spent
          ? `${this.who}: ${status.slo} burn alert superseded: the error budget is spent (see that alert)`
          : `${this.who}: ${status.slo} is no longer burning its error budget fast`,
    );
  }

  /** The latest run failed, was blocked, delivered only partly or left a target unserved: open until a run delivers. */
  async run(latest: RunRecord | undefined): Promise<void> {
    const open = latest !== undefined && ['failed', 'blocked', 'incomplete', 'partial'].includes(latest.status);
    await this.set(
      open,
      {
        kind: 'run',
        severity: 'page',
        key: this.key('run'),
        message: `${this.who}: run ${latest?.runId ?? ''} ${latest?.status ?? ''}: ${latest?.status === 'blocked' && latest.reasons.length > 0 ? latest.reasons.join('; ') : (latest?.error ?? '')}`,
        detail: { runId: latest?.runId ?? null, status: latest?.status ?? null },
      },
      () => `${this.who}: run ${latest?.runId ?? ''} succeeded`,
    );
  }
}
