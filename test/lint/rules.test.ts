/**
 * The rules of `lastmile lint`, on real files: the repository's own examples, the planted fixtures under
 * test/lint/fixtures/ (read, never imported), and credentials written into a temporary project at run time (so no
 * credential-shaped string is ever committed). Positions are those of the planted text, found in the file itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mask } from '../../src/lint/mask.js';
import { lintProject } from '../../src/lint/run-lint.js';
import { parseSuppressions } from '../../src/lint/suppressions.js';
import type { Finding, LintResult } from '../../src/lint/types.js';
import { REPO_ROOT } from '../support/cli.js';
import { PLANTED, plantedConfig, plantedProduct, plantedProject } from './planted.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'lint', 'fixtures');

/** Line and column (1-based) of the `nth` occurrence of `snippet` in `text`. */
function locate(text: string, snippet: string, nth = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < nth; i += 1) {
    index = text.indexOf(snippet, index + 1);
    if (index < 0) throw new Error(`'${snippet}' (occurrence ${nth}) is not in the fixture`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** `line:column rule` of each finding, in order. */
const brief = (findings: readonly Finding[]): string[] => findings.map((f) => `${f.line}:${f.column} ${f.rule}`);
const at = (text: string, snippet: string, rule: string, nth = 1): string => {
  const { line, column } = locate(text, snippet, nth);
  return `${line}:${column} ${rule}`;
};

describe("the repository's own examples", () => {
  let result: LintResult;
  beforeAll(async () => {
    result = await lintProject(REPO_ROOT);
  });

  it('reads the config, every product module and every workflow file', () => {
    const modules = (dir: string): number => readdirSync(path.join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).length;
    expect(result.files).toBe(1 + modules('products') + modules('workflows'));
    expect(modules('products')).toBeGreaterThanOrEqual(5);
  });

  it('products/ and lastmile.config.ts have no findings', () => {
    expect(result.findings.filter((f) => !f.file.startsWith('workflows/'))).toEqual([]);
  });

  it('workflows/ has no findings: the one clock reading (workflows/clock.ts) says why it is deterministic', () => {
    expect(result.findings).toEqual([]);
    expect(readFileSync(path.join(REPO_ROOT, 'workflows', 'clock.ts'), 'utf8')).toMatch(/lastmile-lint-ignore determinism\/clock: \S/);
  });
});

describe('side-effects/*: product modules doing work when loaded', () => {
  const file = path.join(FIXTURES, 'side-effects', 'products', 'load_time.ts');
  const text = readFileSync(file, 'utf8');
  let result: LintResult;
  beforeAll(async () => {
    result = await lintProject(path.join(FIXTURES, 'side-effects'));
  });

  it('finds each import of an effectful module and each effect at load time, with its position', () => {
    expect(result.files).toBe(1);
    expect(result.findings.every((f) => f.file === 'products/load_time.ts' && f.severity === 'error')).toBe(true);
    expect(brief(result.findings)).toEqual([
      at(text, "import { readFileSync } from 'node:fs'", 'side-effects/io'),
      at(text, "import * as http from 'node:http'", 'side-effects/network'),
      at(text, "import { execSync } from 'node:child_process'", 'side-effects/child-process'),
      at(text, "readFileSync('./header.sql'", 'side-effects/io'),
      at(text, "fetch('https://example.com/ping')", 'side-effects/network'),
      at(text, 'setTimeout(', 'side-effects/timer'),
      at(text, "execSync('git rev-parse HEAD')", 'side-effects/child-process'),
      at(text, "http.get('http://example.com/')", 'side-effects/network'), // in an IIFE: runs at load time
      at(text, 'process.exit(1)', 'side-effects/process'), // in a forEach callback: runs at load time
      at(text, "new WebSocket('wss://example.com/feed')", 'side-effects/network'),
    ]);
  });

  it('leaves function bodies that are only defined alone, and type-only imports', () => {
    const lines = new Set(result.findings.map((f) => f.line));
    expect(lines.has(locate(text, 'setInterval(').line)).toBe(false);
    expect(lines.has(locate(text, "readFileSync('./notes.txt'").line)).toBe(false);
    expect(lines.has(locate(text, "(await fetch('https://example.com/'))").line)).toBe(false);
    expect(lines.has(locate(text, "import type { Stats }").line)).toBe(false);
  });

  it('says what runs and how to fix it, ending the region at the end of the call', () => {
    const read = result.findings.find((f) => f.message.startsWith('readFileSync(…)'))!;
    expect(read.message).toBe('readFileSync(…) runs when the product module is loaded (file-system access)');
    expect(read.fix).toMatch(/out of the product/);
    const { column } = locate(text, "readFileSync('./header.sql', 'utf8')");
    expect(read.endColumn - read.column).toBe("readFileSync('./header.sql', 'utf8')".length);
    expect(read.column).toBe(column);
    const imported = result.findings[0]!;
    expect(imported.fix).toMatch(/node:fs.*products are pure declarations/);
  });
});

describe('determinism/*: workflow code', () => {
  const text = readFileSync(path.join(FIXTURES, 'determinism', 'workflows', 'nondeterministic.ts'), 'utf8');
  let result: LintResult;
  beforeAll(async () => {
    result = await lintProject(path.join(FIXTURES, 'determinism'));
  });

  it('finds clocks, randomness, I/O, timers and imports beyond the SDK, workflow files and types', () => {
    expect(result.files).toBe(2);
    expect(result.findings.every((f) => f.file === 'workflows/nondeterministic.ts')).toBe(true);
    expect(brief(result.findings)).toEqual([
      at(text, "import { readFileSync } from 'node:fs'", 'determinism/import'),
      at(text, "import path from 'node:path'", 'determinism/import'),
      at(text, "import { z } from 'zod'", 'determinism/import'),
      at(text, "import { secret } from '../../../../../src/product/secret.js'", 'determinism/import'),
      at(text, 'Date.now()', 'determinism/clock'),
      at(text, 'new Date()', 'determinism/clock'),
      at(text, 'Math.random()', 'determinism/random'),
      at(text, 'crypto.randomUUID()', 'determinism/random'),
      at(text, 'performance.now()', 'determinism/clock'),
      at(text, 'setTimeout(resolve, 10)', 'determinism/io'),
      at(text, "fetch('https://example.com/')", 'determinism/io'),
      at(text, 'readFileSync(path.join', 'determinism/io'),
    ]);
  });

  it("names what each import is, and lets the SDK, workflow files, type-only imports, fixed dates and sleep() be", () => {
    const messages = result.findings.filter((f) => f.rule === 'determinism/import').map((f) => f.message);
    expect(messages[0]).toMatch(/^imports the Node built-in node:fs;/);
    expect(messages[2]).toMatch(/^imports the package zod;/);
    expect(messages[3]).toMatch(/a module outside workflows\/, for its values/);
    const lines = new Set(result.findings.map((f) => f.line));
    for (const fine of ["from '@temporalio/workflow'", "from '@temporalio/common'", 'import type { Product }', "from './helper.js'", "new Date('2024", 'Date.parse(', 'await sleep(10)']) {
      expect(lines.has(locate(text, fine).line), fine).toBe(false);
    }
    expect(result.findings.find((f) => f.rule === 'determinism/io' && f.message.startsWith('setTimeout'))!.fix).toMatch(/sleep\(ms\)/);
  });
});

describe('credentials/process-env', () => {
  it('finds process.env in the config and in products, naming the variable and the secret() to write', async () => {
    const root = path.join(FIXTURES, 'process-env');
    const config = readFileSync(path.join(root, 'lastmile.config.ts'), 'utf8');
    const product = readFileSync(path.join(root, 'products', 'env_reads.ts'), 'utf8');
    const result = await lintProject(root);
    expect(result.findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.rule}`)).toEqual([
      `lastmile.config.ts:${Object.values(locate(config, 'process.env.TEMPORAL_NAMESPACE')).join(':')} credentials/process-env`,
      `products/env_reads.ts:${Object.values(locate(product, 'process.env;')).join(':')} credentials/process-env`,
      `products/env_reads.ts:${Object.values(locate(product, "process.env['OWNER_USER']")).join(':')} credentials/process-env`,
    ]);
    expect(result.findings[1]!.message).toMatch(/^process\.env \(EXCHANGE_DIR\) is read/);
    expect(result.findings[1]!.fix).toMatch(/secret\('EXCHANGE_DIR'\)/);
    expect(result.findings[2]!.fix).toMatch(/secret\('OWNER_USER'\)/);
  });
});

describe('suppression comments', () => {
  const text = readFileSync(path.join(FIXTURES, 'suppression', 'workflows', 'suppressed.ts'), 'utf8');
  let result: LintResult;
  beforeAll(async () => {
    result = await lintProject(path.join(FIXTURES, 'suppression'));
  });

  it('a comment with a rule and a reason excuses the next line; without a reason or with an unknown rule it excuses nothing', () => {
    const line = (constName: string): number => locate(text, `const ${constName} =`).line;
    const comment = (n: number): string => `${line(String.fromCharCode(96 + n)) - 1}:3`;
    expect(brief(result.findings)).toEqual([
      `${comment(2)} lint/suppression`, // no reason
      `${line('b')}:13 determinism/clock`,
      `${comment(3)} lint/suppression`, // a colon and nothing after it
      `${line('c')}:13 determinism/clock`,
      `${comment(4)} lint/suppression`, // determinism/clocks does not exist
      `${line('d')}:13 determinism/clock`,
      `${comment(5)} lint/unused-suppression`, // the wrong rule for its line
      `${line('e')}:13 determinism/clock`,
    ]);
    // a, f (two rules in one comment) and g (two stacked comments) are excused
    const lines = new Set(result.findings.map((f) => f.line));
    for (const name of ['a', 'f', 'g']) expect(lines.has(line(name)), name).toBe(false);
    expect(result.findings.find((f) => f.rule === 'lint/unused-suppression')!.severity).toBe('warning');
    expect(result.findings.filter((f) => f.rule === 'lint/suppression').map((f) => f.message)).toEqual([
      expect.stringMatching(/gives no reason/),
      expect.stringMatching(/gives no reason/),
      expect.stringMatching(/names 'determinism\/clocks', which lastmile lint does not have/),
    ]);
  });

  it('parses the rules and the reason', () => {
    const parsed = parseSuppressions('x;\n  // lastmile-lint-ignore determinism/clock, determinism/random: pinned by the sandbox\ny;\n');
    expect(parsed.problems).toEqual([]);
    expect(parsed.suppressions).toEqual([
      expect.objectContaining({ line: 2, target: 3, rules: ['determinism/clock', 'determinism/random'], reason: 'pinned by the sandbox' }),
    ]);
  });
});

describe('credentials/*: planted credentials', () => {
  let root: string;
  let result: LintResult;
  const product = plantedProduct();
  const config = plantedConfig();
  beforeAll(async () => {
    root = await plantedProject();
    result = await lintProject(root);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('finds every known token shape, URL with a password and random literal under a secret name, where it starts', () => {
    const p = PLANTED;
    const inProduct = result.findings.filter((f) => f.file === 'products/planted.ts');
    expect(brief(inProduct)).toEqual([
      at(product, p.aws, 'credentials/token-shape'),
      at(product, p.github, 'credentials/token-shape'),
      at(product, p.slack, 'credentials/token-shape'),
      at(product, p.stripe, 'credentials/token-shape'),
      at(product, p.hubspot, 'credentials/token-shape'),
      at(product, p.google, 'credentials/token-shape'),
      at(product, p.jwt, 'credentials/token-shape'),
      at(product, `Bearer ${p.bearer}`, 'credentials/token-shape'),
      at(product, '-----BEGIN RSA PRIVATE KEY-----', 'credentials/token-shape'),
      at(product, 'postgres://loader:', 'credentials/url-password'),
      at(product, 'mysql://loader:', 'credentials/url-password'), // the head of a template with a substitution
      at(product, `'${p.apiKey}'`, 'credentials/literal-secret'),
      at(product, `'${p.passphrase}'`, 'credentials/literal-secret'),
      at(product, p.stripeInSql, 'credentials/token-shape'), // the tail of a tagged template
    ]);
    expect(result.findings.filter((f) => f.file === 'lastmile.config.ts').map((f) => `${f.line}:${f.column} ${f.rule}`)).toEqual([
      at(config, 'https://lineage:', 'credentials/url-password'),
    ]);
    // the region covers the token itself
    const aws = inProduct[0]!;
    expect(aws.endColumn - aws.column).toBe(p.aws.length);
  });

  it('names what it found and the secret() to write instead', () => {
    const hubspot = result.findings.find((f) => f.message.startsWith('a HubSpot'))!;
    expect(hubspot.message).toMatch(/^a HubSpot private app token is written in the module \(pat-…\) under 'token'/);
    expect(hubspot.fix).toMatch(/token: secret\('TOKEN'\)/);
    const apiKey = result.findings.find((f) => f.rule === 'credentials/literal-secret')!;
    expect(apiKey.message).toMatch(/^'apiKey' holds a literal that looks like a credential \(.{4}…: 32 characters, \d\.\d bits of entropy per character\)/);
    expect(apiKey.fix).toMatch(/apiKey: secret\('API_KEY'\)/);
    const url = result.findings.find((f) => f.rule === 'credentials/url-password' && f.file === 'products/planted.ts')!;
    expect(url.message).toContain('(postgres://loader:…@db.internal:5432)');
  });

  it('never shows a secret: at most its first 4 characters and …', () => {
    const everything = JSON.stringify(result);
    for (const [name, value] of Object.entries(PLANTED)) {
      expect(everything.includes(value), name).toBe(false);
      expect(everything.includes(value.slice(4, 16)), `${name} (its middle)`).toBe(false);
    }
    expect(everything).toContain(`(${PLANTED.aws.slice(0, 4)}…)`);
    expect(mask('abcdefghijklmnop')).toBe('abcd…');
    expect(mask('abcdefg')).toBe('ab…');
    expect(mask('abc')).toBe('…');
  });
});
