/**
 * One OpenLineage RunEvent of a lastmile run. The job is the product (`job.name` = the product's name, in the
 * environment's namespace); the run is one serveProduct run (its UUID derived from lastmile's run id); inputs are the
 * tables the source reads; outputs are the product's own dataset (its contract) and what each target of the run
 * writes. docs/lineage.md describes every field.
 */
import type { RunRecord, RunStatus, TargetRunRecord } from '../meta/types.js';
import type { Product } from '../product/model.js';
import type { Target } from '../product/targets.js';
import { inputDatasets, productDataset, targetDatasets, type NamingContext } from './datasets.js';
import { facetBase, PRODUCER, RUN_EVENT_SCHEMA_URL } from './producer.js';
import { lineageRunId } from './run-id.js';
import type { Facets, LineageDataset, LineageEventType, RunEvent } from './types.js';

/** The event type of a run's status: START while it runs, COMPLETE when it delivered, ABORT when canceled, FAIL otherwise. */
export function eventTypeOf(status: RunStatus): LineageEventType {
  if (status === 'running') return 'START';
  if (status === 'succeeded') return 'COMPLETE';
  if (status === 'canceled') return 'ABORT';
  return 'FAIL';
}

export interface RunEventInput {
  product: Product;
  run: RunRecord;
  /** the targets the run serves; with their outcome once it ended */
  targets: readonly { target: Target; outcome?: TargetRunRecord }[];
  naming: NamingContext;
}

/** Non-negative integers only: the statistics facet takes integers. */
const count = (value: number | null | undefined): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined);

function outputsOf(input: RunEventInput): LineageDataset[] {
  const outputs = [productDataset(input.product, input.naming)];
  for (const { target, outcome } of input.targets) {
    const datasets = targetDatasets(input.product, target, input.naming);
    const rows = count(outcome?.rows);
    const bytes = count(outcome?.bytes);
    // statistics belong to a target that wrote one dataset, and only once it delivered
    const statistics = datasets.length === 1 && outcome?.status === 'succeeded' && (rows !== undefined || bytes !== undefined);
    for (const dataset of datasets) {
      outputs.push(
        statistics
          ? { ...dataset, outputFacets: { outputStatistics: { ...facetBase('outputStatistics'), ...(rows !== undefined && { rowCount: rows }), ...(bytes !== undefined && { size: bytes }) } } }
          : dataset,
      );
    }
  }
  return outputs;
}

function runFacets(input: RunEventInput): Facets {
  const { run } = input;
  const facets: Record<string, Facets[string]> = {
    lastmile: {
      ...facetBase('lastmile'),
      runId: run.runId,
      ...(run.workflowId !== null && { workflowId: run.workflowId }),
      env: run.env,
      product: run.product,
      ...(run.productVersion !== null && { productVersion: run.productVersion }),
      ...(run.gitSha !== null && { gitSha: run.gitSha }),
      trigger: run.trigger,
      status: run.status,
      ...(count(run.rows) !== undefined && { rows: count(run.rows)! }),
      targets: input.targets.map(({ target, outcome }) => ({ name: target.name, kind: target.kind, ...(outcome && { status: outcome.status }) })),
    },
  };
  if (run.status !== 'running' && run.status !== 'succeeded' && run.error) {
    facets.errorMessage = { ...facetBase('errorMessage'), message: run.error, programmingLanguage: 'TypeScript' };
  }
  return facets;
}

function jobFacets(product: Product): Facets {
  return {
    documentation: { ...facetBase('jobDocumentation'), description: product.description },
    ownership: { ...facetBase('ownership'), owners: [{ name: `team:${product.owner.team}`, type: 'MAINTAINER' }] },
    jobType: { ...facetBase('jobType'), processingType: 'BATCH', integration: 'LASTMILE', jobType: 'DATA_PRODUCT' },
  };
}

/** The event of the run as recorded: START while it runs (at its start), its end event once it ended (at its end). */
export function runEvent(input: RunEventInput): RunEvent {
  const { run } = input;
  const eventType = eventTypeOf(run.status);
  const at = eventType === 'START' ? run.startedAt : (run.finishedAt ?? run.startedAt);
  return {
    eventType,
    eventTime: at.toISOString(),
    producer: PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA_URL,
    run: { runId: lineageRunId(run.runId), facets: runFacets(input) },
    job: { namespace: input.naming.namespace, name: input.product.name, facets: jobFacets(input.product) },
    inputs: inputDatasets(input.product, input.naming),
    outputs: outputsOf(input),
  };
}
