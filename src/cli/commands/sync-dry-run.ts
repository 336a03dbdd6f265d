import { randomUUID } from 'node:crypto';
import { resolveEnvironment } from '../../config/resolve.js';
import { checkContractAgainstWarehouse } from '../../probe/contract.js';
import type { Product } from '../../product/model.js';
import { ValidationError } from '../../product/problems.js';
import { describePlace, type SyncPlace } from '../../reverse-etl/places.js';
import { syncSession } from '../../reverse-etl/serve.js';
import type { Project } from '../../runtime/project.js';
import { ServingContext } from '../../runtime/serving-context.js';
import { stopEmbeddedPostgres } from '../../runtime/warehouse.js';
import { EXIT } from '../exit-codes.js';
import { table, type Output } from '../output.js';

export interface SyncDryRunOptions {
  env: string;
  target: string;
}

/**
 * `lastmile run <product> --target T --dry-run` for a reverse ETL target: freezes the plan a run would send — in the
 * environment's warehouse, in one transaction that is rolled back — and prints where it would go, the operations by
 * kind, the guardrails' verdicts and the first operations. No worker, no Temporal; nothing is sent or recorded.
 */
export async function syncDryRunCommand(project: Project, product: Product, options: SyncDryRunOptions, out: Output): Promise<number> {
  const env = resolveEnvironment(project.config, options.env);
  const context = new ServingContext(project.config, project.products, { root: project.root, log: (line) => out.note(line) });
  try {
    const warehouse = await context.warehouse(env.name);
    out.note(`warehouse: ${warehouse.description}`);
    const problems = await checkContractAgainstWarehouse([product], { query: (text) => warehouse.pool.query(text), schemas: warehouse.schemas });
    if (problems.length > 0) throw new ValidationError(problems);
    const session = await syncSession(context, { env: env.name, product: product.name, target: options.target });
    const runId = randomUUID();
    const plan = await session.freeze({ runId, dryRun: true });
    const samples = plan.samples ?? [];
    if (out.json) {
      out.printJson({
        env: env.name,
        product: product.name,
        target: options.target,
        dryRun: true,
        runId,
        destination: plan.destination,
        place: placeJson(session.place),
        mode: plan.mode,
        counts: plan.counts,
        batches: plan.batches,
        batchSize: plan.batchSize,
        verdicts: plan.verdicts,
        held: plan.held,
        samples,
      });
      return EXIT.ok;
    }
    const c = plan.counts;
    const operations = c.insert + c.update + c.upsert + c.delete;
    out.print(`dry run of ${product.name}/${options.target} in ${env.name}: nothing was sent and nothing recorded (the plan was computed, then rolled back)`);
    out.print(`destination: ${plan.destination}${session.place.kind === 'standin' ? ` — ${session.place.why}` : session.place.how === 'mapped' ? ` (mapped by environments.${env.name}.destinations)` : ''}`);
    out.print(
      `mode ${plan.mode}: ${c.rows} rows read, ${operations} operation${operations === 1 ? '' : 's'} in ${plan.batches} batch${plan.batches === 1 ? '' : 'es'} of up to ${plan.batchSize}; ` +
        `${c.synced} record${c.synced === 1 ? '' : 's'} synced before`,
    );
    out.print('');
    out.print(
      table(
        ['operation', 'count'],
        [
          ['insert', c.insert],
          ['update', c.update],
          ['upsert', c.upsert],
          ['delete', c.delete],
          ['unchanged', c.unchanged],
          ['null keys', c.nullKeys],
        ],
      ),
    );
    out.print('');
    if (plan.verdicts.length === 0) out.print('guardrails: none declared');
    else out.print(table(['guardrail', 'verdict', 'message'], plan.verdicts.map((v) => [v.guardrail, v.tripped ? 'TRIPS' : 'ok', v.message])));
    out.print('');
    out.print(
      plan.held
        ? `a run now would hold this sync for a decision (lastmile approve <run> or lastmile reject <run>): nothing is sent until it is approved`
        : operations === 0
          ? `a run now would send nothing: ${c.unchanged} record${c.unchanged === 1 ? '' : 's'} already in sync`
          : 'a run now would apply this plan without waiting for a decision',
    );
    if (samples.length > 0) {
      out.print('');
      const all = operations + c.nullKeys;
      out.print(samples.length < all ? `the first ${samples.length} of ${all} operations:` : `${all === 1 ? 'its operation' : `its ${all} operations`}:`);
      out.print(table(['op', 'key', 'record'], samples.map((s) => [s.op, s.key ?? '(null)', s.record === null || s.record === undefined ? '' : JSON.stringify(s.record)])));
    }
    return EXIT.ok;
  } finally {
    await context.close();
    await stopEmbeddedPostgres(project.root);
  }
}

function placeJson(place: SyncPlace) {
  return place.kind === 'standin'
    ? { kind: 'standin' as const, description: describePlace(place), table: `${place.table.schema}.${place.table.name}`, why: place.why }
    : { kind: 'destination' as const, description: describePlace(place), how: place.how };
}
