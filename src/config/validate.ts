import type { Problem } from '../product/problems.js';
import { fieldPath } from '../product/problems.js';
import { issuesToProblems } from '../product/issues.js';
import { literalSecretProblems } from '../product/secret-scan.js';
import { at, isRecord } from '../product/raw.js';
import { didYouMean, listOf } from '../text/suggest.js';
import { configSchema } from './schema.js';
import type { Config } from './spec.js';

export interface ConfigValidation {
  config?: Config;
  problems: Problem[];
}

/**
 * Validates a configuration declaration: schema, literal secrets, promotion order. Every problem at once. A `seed`
 * module is only named here (`seedModule`); `loadConfig` loads and checks it.
 */
export function validateConfig(raw: unknown, file?: string): ConfigValidation {
  const secrets = literalSecretProblems(raw, file);
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  const schemaProblems = parsed.success ? [] : issuesToProblems(parsed.error.issues, file);
  const problems = [
    ...secrets,
    ...schemaProblems.filter((problem) => !secrets.some((secret) => within(problem.path, secret.path))),
    ...crossProblems(raw, file),
  ];
  if (problems.length > 0 || !parsed.success) return { problems };
  // `seed` names a module; loadConfig loads it into `seed`, the declaration it exports.
  const { seed: seedModule, ...data } = parsed.data;
  return { config: { ...data, ...(seedModule !== undefined && { seedModule }), ...(file !== undefined && { file }) }, problems };
}

function crossProblems(raw: unknown, file: string | undefined): Problem[] {
  const problems: Problem[] = [];
  const environments = at(raw, 'environments');
  const names = isRecord(environments) ? Object.keys(environments) : [];
  const promotion = at(raw, 'promotion');
  const seen = new Map<string, number>();
  (Array.isArray(promotion) ? promotion : []).forEach((name: unknown, index) => {
    if (typeof name !== 'string') return;
    if (!names.includes(name)) {
      problems.push({
        file,
        path: fieldPath(['promotion', index]),
        message: `unknown environment '${name}' in the promotion order`,
        fix: `${didYouMean(name, names)}Declared environments are ${listOf(names, 'and') || 'none'}; declare it under environments or remove it from promotion.`,
      });
    }
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push({
        file,
        path: fieldPath(['promotion', index]),
        message: `'${name}' appears twice in the promotion order (also promotion[${first}])`,
        fix: 'list each environment once, from the first stage to production',
      });
    } else seen.set(name, index);
  });
  for (const name of names) {
    const temporal = at(environments, name, 'temporal');
    if (at(temporal, 'apiKey') !== undefined && at(temporal, 'addressEnv') === undefined) {
      problems.push({
        file,
        path: fieldPath(['environments', name, 'temporal', 'apiKey']),
        message: 'an API key is set, but no addressEnv: the embedded Temporal server takes no API key',
        fix: "set addressEnv: 'TEMPORAL_ADDRESS' for a remote Temporal, or remove apiKey",
      });
    }
  }
  problems.push(...lineageProblems(raw, names, file));
  return problems;
}

/** Every environment lineage is on in needs a URL, from the top-level block or its own. */
function lineageProblems(raw: unknown, names: readonly string[], file: string | undefined): Problem[] {
  const top = at(raw, 'lineage');
  const problems: Problem[] = [];
  const missing = new Set<string>();
  for (const name of names) {
    const own = at(raw, 'environments', name, 'lineage');
    if (top === undefined && own === undefined) continue;
    const enabled = at(own, 'enabled') ?? at(top, 'enabled') ?? true;
    if (enabled === false || at(own, 'url') !== undefined || at(top, 'url') !== undefined) continue;
    missing.add(own !== undefined ? name : '');
  }
  for (const name of missing) {
    problems.push({
      file,
      path: fieldPath(name === '' ? ['lineage', 'url'] : ['environments', name, 'lineage', 'url']),
      message: name === '' ? "lineage is configured without a url" : `lineage of environment ${name} has no url (none here, none in the top-level lineage)`,
      fix: "add url: 'http://marquez.internal:5000' (the OpenLineage endpoint's base URL), or enabled: false to turn lineage off",
    });
  }
  return problems;
}

function within(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`);
}
