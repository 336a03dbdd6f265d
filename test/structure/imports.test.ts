/**
 * The seams of the code base, checked on every run of the suite: no import cycles, devserver/ and calendar/ standing on
 * their own, src/ using only the devserver's entry point, thin activities, deterministic workflows, and the names
 * Temporal matches on (search attributes, the input error type) written once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';

const CODE_FOLDERS = ['src', 'activities', 'workflows', 'devserver', 'calendar'];

interface Import {
  /** the module text as written */
  specifier: string;
  /** repository-relative path of the imported file, for relative imports */
  target?: string;
  typeOnly: boolean;
}

function tsFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
      const child = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.ts')) out.push(child);
    }
  };
  walk(folder);
  return out;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false);
  const found: Import[] = [];
  const add = (specifier: string, typeOnly: boolean): void => {
    const target = specifier.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.js$/, '.ts') : undefined;
    found.push({ specifier, ...(target && { target }), typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const allTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((element) => element.isTypeOnly)));
      add(node.moduleSpecifier.text, allTypes);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      add(node.arguments[0].text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const FILES = CODE_FOLDERS.flatMap(tsFiles);
const GRAPH = new Map(FILES.map((file) => [file, importsOf(file)] as const));
const under = (file: string, folder: string): boolean => file === folder || file.startsWith(`${folder}/`);

/** Every cycle of the import graph (type-only imports included), as `a → b → a`. */
function cycles(): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const { target } of GRAPH.get(file) ?? []) {
      if (!target || !GRAPH.has(target)) continue;
      if (state.get(target) === 'open') found.push([...stack.slice(stack.indexOf(target)), target].join(' → '));
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of FILES) if (!state.has(file)) visit(file);
  return found;
}

/** `file → import` for every import of files under `folder` that `allowed` refuses. */
function violations(folder: string, allowed: (imported: Import, file: string) => boolean): string[] {
  return FILES.filter((file) => under(file, folder)).flatMap((file) =>
    (GRAPH.get(file) ?? []).filter((imported) => !allowed(imported, file)).map((imported) => `${file} → ${imported.target ?? imported.specifier}`),
  );
}

describe('the structure of the code', () => {
  it('reads every code file (the checks below see real imports)', () => {
    expect(FILES.length).toBeGreaterThan(150);
    expect(GRAPH.get('src/index.ts')!.some((i) => i.target === 'src/product/spec.ts')).toBe(true);
  });

  it('has no import cycles', () => {
    expect(cycles()).toEqual([]);
  });

  it('devserver/ depends on nothing of lastmile but the neutral calendar/', () => {
    expect(violations('devserver', (i) => !i.target || under(i.target, 'devserver') || under(i.target, 'calendar'))).toEqual([]);
  });

  it('calendar/ depends on nothing at all', () => {
    expect(violations('calendar', (i) => i.target !== undefined && under(i.target, 'calendar'))).toEqual([]);
  });

  it('src/ uses the devserver only through its entry point', () => {
    expect(violations('src', (i) => !i.target || !under(i.target, 'devserver') || i.target === 'devserver/index.ts')).toEqual([]);
  });

  it('src/product holds the model: it reads no warehouse, compiles no SQL, and knows no serving kind', () => {
    const allowed = ['src/product', 'src/time', 'src/text', 'calendar'];
    expect(
      violations('src/product', (i) => !i.target || allowed.some((folder) => under(i.target!, folder)) || i.target === 'src/warehouse/quote.ts' || i.target === 'src/errors.ts'),
    ).toEqual([]);
  });

  it('activities never import the deploy or CLI code', () => {
    expect(violations('activities', (i) => !i.target || !(under(i.target, 'src/deploy') || under(i.target, 'src/cli')))).toEqual([]);
  });

  it('workflows/ imports only the workflow SDK, its own pure files, and types', () => {
    const packages = ['@temporalio/workflow', '@temporalio/common'];
    expect(violations('workflows', (i) => (i.target ? under(i.target, 'workflows') || i.typeOnly : packages.includes(i.specifier)))).toEqual([]);
  });

  it("names Temporal matches on are written once: search attributes, the input error's type", () => {
    const literal = /['"](LastmileProduct|LastmileEnv|LastmileTarget|LastmileOwner|LastmileInputError)['"]/;
    const writtenAt = FILES.filter((file) => literal.test(readFileSync(path.join(REPO_ROOT, file), 'utf8')));
    expect(writtenAt.sort()).toEqual(['workflows/errors.ts', 'workflows/search-attributes.ts']);
    // search attributes go through typedSearchAttributes (typed keys), never the untyped record
    const untyped = FILES.filter((file) => /\bsearchAttributes:\s*\{/.test(readFileSync(path.join(REPO_ROOT, file), 'utf8')) && !under(file, 'devserver'));
    expect(untyped).toEqual([]);
  });
});
