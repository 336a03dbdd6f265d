import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineConfig, formatProblems, loadConfig, resolveEnvironment, secret, validateConfig, ValidationError } from '../../src/index.js';
import type { Problem } from '../../src/index.js';
import { edit } from '../product/support/modules.js';
import { createProject, REPO_ROOT } from '../product/support/project.js';
import type { TempProject } from '../product/support/project.js';

const VALID_CONFIG = `import { defineConfig, secret } from 'lastmile';

export default defineConfig({
  environments: {
    dev: {},
    test: { warehouse: { schemas: { marts: 'marts_test' } } },
    prod: {
      warehouse: { urlEnv: 'LASTMILE_PROD_WAREHOUSE_URL' },
      temporal: { addressEnv: 'TEMPORAL_ADDRESS', namespace: 'shop-prod', apiKey: secret('TEMPORAL_API_KEY') },
    },
  },
  promotion: ['dev', 'test', 'prod'],
});
`;

interface Case {
  title: string;
  edits: readonly (readonly [string, string])[];
  path: string;
  says: RegExp;
  fix?: RegExp;
  hides?: string;
}

const cases: Case[] = [
  { title: 'unknown environment in promotion', edits: [["promotion: ['dev', 'test', 'prod']", "promotion: ['dev', 'test', 'prd']"]], path: 'promotion[2]', says: /unknown environment 'prd'/, fix: /Did you mean 'prod'/ },
  { title: 'environment promoted twice', edits: [["promotion: ['dev', 'test', 'prod']", "promotion: ['dev', 'test', 'test', 'prod']"]], path: 'promotion[2]', says: /'test' appears twice/ },
  { title: 'empty promotion', edits: [["promotion: ['dev', 'test', 'prod']", 'promotion: []']], path: 'promotion', says: /promotion order is empty/ },
  { title: 'literal API key', edits: [["apiKey: secret('TEMPORAL_API_KEY')", "apiKey: 'tmprl_9b1c77e0'"]], path: 'environments.prod.temporal.apiKey', says: /'apiKey' holds a literal credential/, fix: /secret\(/, hides: 'tmprl_9b1c77e0' },
  {
    title: 'connection string with a password',
    edits: [["urlEnv: 'LASTMILE_PROD_WAREHOUSE_URL'", "urlEnv: 'postgres://lastmile:Tr0ub4dor@db.example.com:5432/shop'"]],
    path: 'environments.prod.warehouse.urlEnv',
    says: /connection string with a password/,
    hides: 'Tr0ub4dor',
  },
  { title: 'a URL where the variable name belongs', edits: [["urlEnv: 'LASTMILE_PROD_WAREHOUSE_URL'", "urlEnv: 'postgres://db.example.com/shop'"]], path: 'environments.prod.warehouse.urlEnv', says: /holds the NAME of an environment variable, not the warehouse URL/ },
  { title: 'a literal url field', edits: [["urlEnv: 'LASTMILE_PROD_WAREHOUSE_URL'", "url: 'postgres://db.example.com/shop'"]], path: 'environments.prod.warehouse.url', says: /unknown field 'url'/, fix: /'urlEnv'/ },
  { title: 'typo in a field', edits: [['    prod: {\n      warehouse:', '    prod: {\n      warehous:']], path: 'environments.prod.warehous', says: /unknown field 'warehous'/, fix: /Did you mean 'warehouse'/ },
  { title: 'literal password field', edits: [["namespace: 'shop-prod',", "namespace: 'shop-prod', password: 'hunter2',"]], path: 'environments.prod.temporal.password', says: /literal credential/, hides: 'hunter2' },
  { title: 'invalid environment name', edits: [['    test: {', '    Test_Env: {'], ["'test', 'prod']", "'Test_Env', 'prod']"]], path: 'environments.Test_Env', says: /environment name 'Test_Env' is not valid/ },
  { title: 'invalid physical schema name', edits: [["marts: 'marts_test'", "marts: 'marts-test'"]], path: 'environments.test.warehouse.schemas.marts', says: /'marts-test' is not a plain schema name/ },
  { title: 'invalid namespace', edits: [["namespace: 'shop-prod'", "namespace: 'shop prod'"]], path: 'environments.prod.temporal.namespace', says: /not a valid Temporal namespace/ },
  { title: 'invalid address variable name', edits: [["addressEnv: 'TEMPORAL_ADDRESS'", "addressEnv: 'temporal address'"]], path: 'environments.prod.temporal.addressEnv', says: /'temporal address' is not an environment variable name/ },
  { title: 'API key for the embedded server', edits: [['    dev: {},', "    dev: { temporal: { apiKey: secret('DEV_KEY') } },"]], path: 'environments.dev.temporal.apiKey', says: /no addressEnv/ },
  { title: 'missing default export', edits: [['export default defineConfig(', 'export const config = defineConfig(']], path: '', says: /no default export/ },
  { title: 'syntax error', edits: [["promotion: ['dev', 'test', 'prod'],", "promotion: ['dev', 'test', 'prod'],,"]], path: '', says: /does not compile: line 12, column \d+: Expected identifier/ },
];

describe('malformed lastmile.config.ts', () => {
  let project: TempProject;
  const outcomes = new Map<Case, { file: string; problems: readonly Problem[]; report: string }>();

  beforeAll(async () => {
    project = await createProject();
    for (const [index, testCase] of cases.entries()) {
      const dir = `case_${index}`;
      const file = await project.write(`${dir}/lastmile.config.ts`, edit(VALID_CONFIG, testCase.edits));
      const error = await loadConfig(path.join(project.root, dir)).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      if (!(error instanceof ValidationError)) throw new Error(`case '${testCase.title}' did not fail validation: ${String(error)}`);
      outcomes.set(testCase, { file, problems: error.problems, report: error.message });
    }
  });

  afterAll(async () => {
    await project?.remove();
  });

  it.each(cases)('$title', (testCase) => {
    const { file, problems, report } = outcomes.get(testCase)!;
    const problem = problems.find((candidate) => candidate.path === testCase.path && testCase.says.test(candidate.message));
    expect(problem, formatProblems(problems)).toBeDefined();
    expect(problem?.file).toBe(file);
    if (testCase.fix) expect(problem?.fix).toMatch(testCase.fix);
    const heading = testCase.path ? `${file}, ${testCase.path}: ` : `${file}: `;
    expect(report.split('\n\n').some((paragraph) => paragraph.startsWith(heading) && paragraph.includes('Fix:')), report).toBe(true);
    if (testCase.hides) expect(report).not.toContain(testCase.hides);
  });

  it('reports a missing config file', async () => {
    const dir = path.join(project.root, 'no_config');
    await expect(loadConfig(dir)).rejects.toThrow(/there is no lastmile\.config\.ts/);
  });
});

describe('the project configuration', () => {
  it('loads the repository lastmile.config.ts', async () => {
    const config = await loadConfig(REPO_ROOT);
    expect(config.promotion).toEqual(['dev', 'test', 'prod']);
    expect(config.file).toBe(path.join(REPO_ROOT, 'lastmile.config.ts'));
    expect(config.seedModule).toBe('./seed/retailer/index.ts');
    expect(config.seed).toMatchObject({ name: 'retailer', version: 1, schemas: ['shop', 'marts'] });
  });

  it('resolves environments with defaults', async () => {
    const config = await loadConfig(REPO_ROOT);
    expect(resolveEnvironment(config, 'dev')).toEqual({
      name: 'dev',
      warehouse: { kind: 'embedded', schemas: {}, seed: config.seed },
      temporal: { kind: 'embedded', namespace: 'default', taskQueue: 'lastmile-dev' },
      promotion: { index: 0, next: 'test' },
      production: false,
      destinations: {},
    });
    expect(resolveEnvironment(config, 'prod')).toMatchObject({
      warehouse: { kind: 'url', urlEnv: 'LASTMILE_PROD_WAREHOUSE_URL' },
      temporal: { kind: 'remote', addressEnv: 'TEMPORAL_ADDRESS' },
      promotion: { index: 2, previous: 'test' },
      // the last environment of the promotion order writes where products say
      production: true,
    });
  });

  it('destinations map places per environment; a place with credentials in it is refused, naming the field', () => {
    const ok = validateConfig(defineConfig({ environments: { test: { destinations: { 's3://exchange/': 's3://exchange-test/' } }, prod: {} }, promotion: ['test', 'prod'] }));
    expect(ok.problems).toEqual([]);
    expect(resolveEnvironment(ok.config!, 'test')).toMatchObject({ production: false, destinations: { 's3://exchange/': 's3://exchange-test/' } });
    const bad = validateConfig(defineConfig({ environments: { test: { destinations: { 'https://bi.example.com': 'https://admin:hunter2@bi-test.example.com' } } }, promotion: ['test'] }));
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0]!.path).toMatch(/^environments\.test\.destinations/);
    expect(bad.problems[0]!.message).toMatch(/holds credentials in the URL|with a password/);
    expect(JSON.stringify(bad.problems)).not.toContain('hunter2');
  });

  it('fills namespace, task queue and schemas from a declaration', () => {
    const declaration = defineConfig({
      environments: {
        dev: {},
        test: { warehouse: { schemas: { marts: 'marts_test' } }, temporal: { taskQueue: 'shop-test' } },
        prod: { warehouse: { urlEnv: 'WAREHOUSE_URL' }, temporal: { addressEnv: 'TEMPORAL_ADDRESS', namespace: 'shop.prod', apiKey: secret('TEMPORAL_API_KEY') } },
      },
      promotion: ['dev', 'test', 'prod'],
    });
    const { config, problems } = validateConfig(declaration);
    expect(problems).toEqual([]);
    expect(resolveEnvironment(config!, 'test')).toMatchObject({
      warehouse: { kind: 'embedded', schemas: { marts: 'marts_test' } },
      temporal: { kind: 'embedded', namespace: 'default', taskQueue: 'shop-test' },
      promotion: { index: 1, previous: 'dev', next: 'prod' },
    });
    expect(resolveEnvironment(config!, 'prod').temporal).toEqual({
      kind: 'remote',
      addressEnv: 'TEMPORAL_ADDRESS',
      namespace: 'shop.prod',
      taskQueue: 'lastmile-prod',
      apiKey: { kind: 'secret', env: 'TEMPORAL_API_KEY' },
    });
  });

  it('rejects an unknown environment name', async () => {
    const config = await loadConfig(REPO_ROOT);
    expect(() => resolveEnvironment(config, 'staging')).toThrow(ValidationError);
    expect(() => resolveEnvironment(config, 'prd')).toThrow(/unknown environment 'prd'.*Did you mean 'prod'/s);
  });
});
