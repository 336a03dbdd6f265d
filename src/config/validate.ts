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
  return problems;
}

function within(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`);
}
