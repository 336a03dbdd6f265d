/** Who writes lastmile's lineage, and the schema versions its events and facets follow. */
import { readFileSync } from 'node:fs';

function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const version = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === 'string' ? version : '0.0.0';
}

/** lastmile's version, from package.json. */
export const LASTMILE_VERSION = packageVersion();

/** `producer` and `_producer`: the source tree of this version. */
export const PRODUCER = `https://github.com/lastmile/lastmile/tree/${LASTMILE_VERSION}`;

/** The RunEvent schema the events follow. */
export const RUN_EVENT_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';

/** The facet schemas used, by facet key (each the `$id` of its spec/facets/*.json plus the facet's definition). */
export const FACET_SCHEMA_URLS = {
  schema: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
  documentation: 'https://openlineage.io/spec/facets/1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet',
  jobDocumentation: 'https://openlineage.io/spec/facets/1-1-0/DocumentationJobFacet.json#/$defs/DocumentationJobFacet',
  ownership: 'https://openlineage.io/spec/facets/1-0-1/OwnershipJobFacet.json#/$defs/OwnershipJobFacet',
  jobType: 'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
  errorMessage: 'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
  outputStatistics: 'https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet',
  /** lastmile's own run facet (src/lineage/LastmileRunFacet.json) */
  lastmile: `https://raw.githubusercontent.com/lastmile/lastmile/${LASTMILE_VERSION}/src/lineage/LastmileRunFacet.json#/$defs/LastmileRunFacet`,
} as const;

export type FacetKind = keyof typeof FACET_SCHEMA_URLS;

/** The two fields every facet starts with. */
export function facetBase(kind: FacetKind): { _producer: string; _schemaURL: string } {
  return { _producer: PRODUCER, _schemaURL: FACET_SCHEMA_URLS[kind] };
}
