/**
 * `lastmile lint` as people and CI run it (node bin/lastmile.js, a real process): the human lines and summary, the
 * exit codes, `--json`, and `--sarif FILE` — its shape checked with ajv against a schema of the SARIF 2.1.0 parts
 * lastmile writes, and the file round-tripping through JSON to what the linter found. No secret reaches any output.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RULES } from '../../src/lint/catalog.js';
import { lintProject } from '../../src/lint/run-lint.js';
import { toSarif } from '../../src/lint/sarif.js';
import type { Finding } from '../../src/lint/types.js';
import { createCliProject, json, killStrays, REPO_ROOT, runCli, type CliProject, type CliResult } from '../support/cli.js';
import { PLANTED, plantedProject } from './planted.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'lint', 'fixtures');

/** The parts of SARIF 2.1.0 that lastmile writes, as required there (and as code-scanning uploads need them). */
const SARIF_SUBSET = {
  type: 'object',
  required: ['$schema', 'version', 'runs'],
  properties: {
    $schema: { type: 'string', format: 'uri' },
    version: { const: '2.1.0' },
    runs: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: {
        type: 'object',
        required: ['tool', 'results'],
        properties: {
          tool: {
            type: 'object',
            required: ['driver'],
            properties: {
              driver: {
                type: 'object',
                required: ['name', 'rules'],
                properties: {
                  name: { const: 'lastmile' },
                  version: { type: 'string' },
                  rules: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['id', 'shortDescription', 'fullDescription', 'help'],
                      properties: {
                        id: { type: 'string', pattern: '^[a-z-]+/[a-z-]+$' },
                        name: { type: 'string', pattern: '^[A-Za-z]+$' },
                        shortDescription: { $ref: '#/$defs/text' },
                        fullDescription: { $ref: '#/$defs/text' },
                        help: { $ref: '#/$defs/text' },
                        defaultConfiguration: { type: 'object', properties: { level: { $ref: '#/$defs/level' } } },
                      },
                    },
                  },
                },
              },
            },
          },
          columnKind: { enum: ['utf16CodeUnits', 'unicodeCodePoints'] },
          results: {
            type: 'array',
            items: {
              type: 'object',
              required: ['ruleId', 'level', 'message', 'locations'],
              properties: {
                ruleId: { type: 'string' },
                ruleIndex: { type: 'integer', minimum: 0 },
                level: { $ref: '#/$defs/level' },
                message: { $ref: '#/$defs/text' },
                locations: {
                  type: 'array',
                  minItems: 1,
                  items: {
                    type: 'object',
                    required: ['physicalLocation'],
                    properties: {
                      physicalLocation: {
                        type: 'object',
                        required: ['artifactLocation', 'region'],
                        properties: {
                          artifactLocation: {
                            type: 'object',
                            required: ['uri'],
                            properties: { uri: { type: 'string', format: 'uri-reference', pattern: '^[^/]' }, uriBaseId: { type: 'string' } },
                          },
                          region: {
                            type: 'object',
                            required: ['startLine', 'startColumn', 'endLine', 'endColumn'],
                            properties: {
                              startLine: { type: 'integer', minimum: 1 },
                              startColumn: { type: 'integer', minimum: 1 },
                              endLine: { type: 'integer', minimum: 1 },
                              endColumn: { type: 'integer', minimum: 1 },
                            },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
  $defs: {
    text: { type: 'object', required: ['text'], properties: { text: { type: 'string', minLength: 1 }, markdown: { type: 'string' } } },
    level: { enum: ['none', 'note', 'warning', 'error'] },
  },
} as const;

interface LintJson {
  ok: boolean;
  files: number;
  findings: Finding[];
}

interface SarifFile {
  runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; ruleIndex: number; locations: { physicalLocation: { artifactLocation: { uri: string }; region: Record<string, number> } }[] }[] }[];
}

describe('lastmile lint', () => {
  let out: string;
  let planted: string;
  let repoExamples: CliProject;
  let warningsOnly: string;
  const results = new Map<string, Promise<CliResult>>();
  const cli = (name: string): Promise<CliResult> => results.get(name)!;
  const fixture = (name: string): string => path.join(FIXTURES, name);

  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'lastmile-lint-out-'));
    planted = await plantedProject();
    // the repository's products and config as a user's project (createCliProject copies them, without workflows/)
    repoExamples = await createCliProject();
    warningsOnly = await mkdtemp(path.join(os.tmpdir(), 'lastmile-lint-warn-'));
    await mkdir(path.join(warningsOnly, 'workflows'));
    await writeFile(path.join(warningsOnly, 'workflows', 'w.ts'), '// lastmile-lint-ignore determinism/clock: nothing below reads a clock any more\nexport const x = 1;\n');
    const calls: Record<string, string[]> = {
      sideEffects: ['lint', '--root', fixture('side-effects')],
      sideEffectsJson: ['lint', '--json', '--root', fixture('side-effects')],
      determinismSarif: ['lint', '--json', '--sarif', path.join(out, 'nested', 'determinism.sarif'), '--root', fixture('determinism')],
      clean: ['lint', '--root', fixture('clean')],
      cleanSarif: ['lint', '--sarif', path.join(out, 'clean.sarif'), '--root', fixture('clean')],
      examples: ['lint', '--root', repoExamples.root],
      planted: ['lint', '--root', planted],
      plantedJson: ['lint', '--json', '--sarif', path.join(out, 'planted.sarif'), '--root', planted],
      warningsOnly: ['lint', '--root', warningsOnly],
      notAProject: ['lint', '--root', out],
    };
    for (const [name, args] of Object.entries(calls)) results.set(name, runCli(args));
    await Promise.allSettled(results.values());
  }, 120_000);

  afterAll(async () => {
    await killStrays();
    await repoExamples?.remove();
    for (const dir of [out, planted, warningsOnly]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints file:line:col  rule  message with the fix indented below, and a summary; exits 1 on findings', async () => {
    const result = await cli('sideEffects');
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('products/load_time.ts:2:1  side-effects/io  the product module imports node:fs (file-system access); a product module is a pure declaration');
    expect(lines[1]).toMatch(/^ {4}fix: move the code that needs node:fs out of the product/);
    expect(lines).toContain('products/load_time.ts:8:16  side-effects/io  readFileSync(…) runs when the product module is loaded (file-system access)');
    expect(lines.filter((line) => /^products\/load_time\.ts:\d+:\d+ {2}side-effects\/[a-z-]+ {2}\S/.test(line))).toHaveLength(10);
    expect(lines.filter((line) => line.startsWith('    fix: '))).toHaveLength(10);
    expect(lines.at(-1)).toBe('10 findings in 1 file');
  });

  it('--json prints { ok, files, findings } with every field of each finding', async () => {
    const result = await cli('sideEffectsJson');
    expect(result.code).toBe(1);
    const body = json<LintJson>(result);
    expect(body.ok).toBe(false);
    expect(body.files).toBe(1);
    expect(body.findings).toHaveLength(10);
    expect(body.findings[3]).toEqual({
      file: 'products/load_time.ts',
      line: 8,
      column: 16,
      endLine: 8,
      endColumn: 52,
      rule: 'side-effects/io',
      severity: 'error',
      message: 'readFileSync(…) runs when the product module is loaded (file-system access)',
      fix: expect.stringMatching(/^move the file access out of the product/),
    });
  });

  it('--sarif FILE writes SARIF 2.1.0 that validates, round-trips through JSON and matches the findings', async () => {
    const result = await cli('determinismSarif');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('SARIF written to');
    const file = path.join(out, 'nested', 'determinism.sarif');
    const text = readFileSync(file, 'utf8');
    const sarif = JSON.parse(text) as SarifFile;
    const ajv = new Ajv({ allErrors: true, strict: true });
    (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
    const validate = ajv.compile(SARIF_SUBSET);
    expect(validate(sarif), ajv.errorsText(validate.errors)).toBe(true);
    // what the CLI wrote is what the linter finds, as JSON (nothing lost or changed in the round trip)
    const version = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const expected = toSarif(await lintProject(fixture('determinism')), { version });
    expect(sarif).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(JSON.parse(JSON.stringify(sarif))).toEqual(sarif);
    // every rule described, every result pointing at its rule and at the finding --json reported
    const run = sarif.runs[0]!;
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(RULES.map((r) => r.id));
    const findings = json<LintJson>(result).findings;
    expect(run.results).toHaveLength(findings.length);
    run.results.forEach((r, i) => {
      const f = findings[i]!;
      expect(r.ruleId).toBe(f.rule);
      expect(run.tool.driver.rules[r.ruleIndex]!.id).toBe(f.rule);
      expect(r.locations[0]!.physicalLocation.artifactLocation.uri).toBe('workflows/nondeterministic.ts');
      expect(r.locations[0]!.physicalLocation.region).toEqual({ startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn });
    });
  });

  it('a clean project exits 0 with "no findings in N files", and its SARIF has no results', async () => {
    const clean = await cli('clean');
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toBe('no findings in 3 files\n');
    const cleanSarif = await cli('cleanSarif');
    expect(cleanSarif.code).toBe(0);
    const sarif = JSON.parse(readFileSync(path.join(out, 'clean.sarif'), 'utf8')) as SarifFile;
    expect(sarif.runs[0]!.results).toEqual([]);
  });

  it("the repository's example products and config pass", async () => {
    const result = await cli('examples');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^no findings in 6 files\n$/);
  });

  it('warnings alone (an unused suppression) do not fail the command', async () => {
    const result = await cli('warningsOnly');
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/^workflows\/w\.ts:1:1 {2}lint\/unused-suppression {2}warning: /);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('1 finding in 1 file (1 warning)');
  });

  it('never prints or writes a planted secret, in text, JSON or SARIF', async () => {
    const [text, withJson] = await Promise.all([cli('planted'), cli('plantedJson')]);
    expect(text.code).toBe(1);
    expect(withJson.code).toBe(1);
    const sarif = readFileSync(path.join(out, 'planted.sarif'), 'utf8');
    expect(json<LintJson>(withJson).findings.length).toBeGreaterThanOrEqual(15);
    const everything = [text.stdout, text.stderr, withJson.stdout, withJson.stderr, sarif].join('\n');
    for (const [name, value] of Object.entries(PLANTED)) {
      expect(everything.includes(value), name).toBe(false);
      expect(everything.includes(value.slice(4, 16)), `${name} (its middle)`).toBe(false);
    }
    expect(text.stdout).toContain(`an AWS access key id is written in the module (${PLANTED.aws.slice(0, 4)}…)`);
  });

  it('a folder that is not a lastmile project is one paragraph and exit 1', async () => {
    const result = await cli('notAProject');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is not a lastmile project: it has no lastmile\.config\.ts, products\/ or workflows\/\. Run lastmile lint in the project folder, or pass it with --root DIR\./);
    expect(existsSync(path.join(out, 'products'))).toBe(false);
  });
});
