/**
 * A local OpenLineage receiver for the tests: `POST /api/v1/lineage` validates each event against the vendored
 * OpenLineage JSON schemas (the RunEvent, and each facet against the schema its `_schemaURL` names), records it, and
 * answers 200 — or 503 while `unavailable`. It can stop and start again on the same port (a receiver that is down).
 */
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { FACET_SCHEMA_URLS } from '../../../src/lineage/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RUN_EVENT = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';

export interface ReceivedEvent {
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
  /** schema violations; empty when the event is valid */
  errors: string[];
}

type Json = Record<string, unknown>;

function createValidator(): (event: unknown) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
  for (const file of readdirSync(HERE).filter((f) => f.endsWith('.json'))) ajv.addSchema(JSON.parse(readFileSync(path.join(HERE, file), 'utf8')) as Json);
  // lastmile's own run facet, under the URL its events name
  const own = JSON.parse(readFileSync(path.join(HERE, '../../../src/lineage/LastmileRunFacet.json'), 'utf8')) as Json;
  ajv.addSchema(own, FACET_SCHEMA_URLS.lastmile.split('#')[0]);
  const runEvent = ajv.getSchema(RUN_EVENT)!;
  const errorsOf = (validate: ValidateFunction, where: string) => (validate.errors ?? []).map((e) => `${where}${e.instancePath} ${e.message ?? ''}`);

  return (event) => {
    const errors: string[] = [];
    if (!runEvent(event)) errors.push(...errorsOf(runEvent, 'event'));
    const e = event as Json;
    const facetMaps: [string, unknown][] = [
      ['run.facets', (e.run as Json | undefined)?.facets],
      ['job.facets', (e.job as Json | undefined)?.facets],
    ];
    for (const [side, list] of [['inputs', e.inputs], ['outputs', e.outputs]] as const) {
      (Array.isArray(list) ? (list as Json[]) : []).forEach((dataset, i) => {
        facetMaps.push([`${side}[${i}].facets`, dataset.facets], [`${side}[${i}].outputFacets`, dataset.outputFacets]);
      });
    }
    for (const [where, facets] of facetMaps) {
      for (const [key, facet] of Object.entries((facets ?? {}) as Record<string, Json>)) {
        const url = typeof facet._schemaURL === 'string' ? facet._schemaURL : '';
        const validate = ajv.getSchema(url.split('#')[0]!);
        if (!validate) {
          errors.push(`${where}.${key}: no vendored schema for ${url}`);
          continue;
        }
        // a facet schema describes the object the facet sits in: { <key>: facet }
        if (!validate({ [key]: facet })) errors.push(...errorsOf(validate, `${where}`));
        const defined = Object.keys(((validate.schema as Json).properties ?? {}) as Json);
        if (!defined.includes(key)) errors.push(`${where}.${key}: ${url} defines the facet ${defined.join(', ')}, not ${key}`);
      }
    }
    return errors;
  };
}

export interface LineageReceiver {
  /** the base URL (what `lineage.url` takes) */
  url: string;
  port: number;
  /** events answered 200, in arrival order */
  accepted: ReceivedEvent[];
  /** requests answered 503 */
  refused: number;
  /** answer 503 to every request while true */
  unavailable: boolean;
  /** closes the port: connections are refused */
  stop(): Promise<void>;
  /** listens again on the same port */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startLineageReceiver(): Promise<LineageReceiver> {
  const validate = createValidator();
  let server: http.Server | undefined;
  const receiver: LineageReceiver = {
    url: '',
    port: 0,
    accepted: [],
    refused: 0,
    unavailable: false,
    async stop() {
      const current = server;
      server = undefined;
      if (!current) return;
      current.closeAllConnections();
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    async start() {
      const next = http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          if (request.method !== 'POST' || request.url !== '/api/v1/lineage') {
            response.writeHead(404).end('not found');
            return;
          }
          if (receiver.unavailable) {
            receiver.refused++;
            response.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
            return;
          }
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
          receiver.accepted.push({ body, headers: request.headers, errors: validate(body) });
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((resolve, reject) => {
        next.once('error', reject);
        next.listen(receiver.port, '127.0.0.1', () => resolve());
      });
      server = next;
      receiver.port = (next.address() as AddressInfo).port;
      receiver.url = `http://127.0.0.1:${receiver.port}`;
    },
    close: () => receiver.stop(),
  };
  await receiver.start();
  return receiver;
}
