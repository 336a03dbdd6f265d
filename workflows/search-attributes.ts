/**
 * lastmile's search attributes (Keyword), defined once: the Temporal UI filters runs by them
 * (`LastmileProduct = 'partner_invoices'`). Pure — used by workflows (child starts) and clients (runs, schedules).
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = {
  product: 'LastmileProduct',
  env: 'LastmileEnv',
  target: 'LastmileTarget',
  owner: 'LastmileOwner',
} as const;

export type SearchAttributeName = (typeof SEARCH_ATTRIBUTES)[keyof typeof SEARCH_ATTRIBUTES];

const KEYS = {
  product: defineSearchAttributeKey(SEARCH_ATTRIBUTES.product, SearchAttributeType.KEYWORD),
  env: defineSearchAttributeKey(SEARCH_ATTRIBUTES.env, SearchAttributeType.KEYWORD),
  target: defineSearchAttributeKey(SEARCH_ATTRIBUTES.target, SearchAttributeType.KEYWORD),
  owner: defineSearchAttributeKey(SEARCH_ATTRIBUTES.owner, SearchAttributeType.KEYWORD),
};

/** The search attributes of a run, as the Temporal UI shows them: product, environment, target, owning team. */
export function runSearchAttributes(v: { product: string; env: string; target: string; owner: string }): SearchAttributePair[] {
  return [
    { key: KEYS.product, value: v.product },
    { key: KEYS.env, value: v.env },
    { key: KEYS.target, value: v.target },
    { key: KEYS.owner, value: v.owner },
  ];
}
