/**
 * Reading every product of `products/` without running it: each module is parsed with ts-morph (at the work tree or
 * at a git revision), its default export evaluated from the syntax tree (src/static/evaluate.ts) and validated exactly
 * as the loader validates a loaded one. A module with a field that is computed rather than written is loaded (run)
 * instead — from the work tree, or from a copy of the revision's products folder under `.lastmile/revisions/` — and
 * the read says which fields made it so.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Node, Project, type SourceFile } from 'ts-morph';
import { isProductModulePath } from '../product/discover.js';
import { defaultDeclaration, duplicateNameProblems } from '../product/loader.js';
import { importErrorMessage, importModules } from '../product/module-import.js';
import type { Problem } from '../product/problems.js';
import { at } from '../product/raw.js';
import { isProductDefinition } from '../product/spec.js';
import { validateProduct } from '../product/validate.js';
import { Evaluator, type ModuleResolver } from './evaluate.js';
import { positionOf } from './position.js';
import { readModuleTexts, WORKTREE, type ModuleText } from './sources.js';
import type { ComputedField, SourcePosition, StaticProduct, StaticRead } from './types.js';

export interface ReadOptions {
  /** a git revision (branch, tag, sha, `HEAD~1`); the work tree when absent */
  revision?: string;
  /** load (run) a module whose fields are not all literal; default true. When false, such a module is a problem. */
  load?: boolean;
}

const PRODUCTS_PREFIX = 'products/';

export async function readProducts(root: string, options: ReadOptions = {}): Promise<StaticRead> {
  const texts = await readModuleTexts(root, options.revision);
  const project = new Project({ useInMemoryFileSystem: true, skipFileDependencyResolution: true, compilerOptions: { allowJs: true } });
  const byPath = new Map<string, SourceFile>();
  for (const file of texts.files) byPath.set(file.path, project.createSourceFile(`/${file.path}`, file.text, { overwrite: true }));
  const resolver = moduleResolver(byPath);
  const evaluator = new Evaluator(resolver);

  const problems: Problem[] = [];
  const products: StaticProduct[] = [];
  const names: { name: string; file: string }[] = [];
  const toLoad: { file: ModuleText; computed: ComputedField[]; docs?: string; position: SourcePosition }[] = [];

  for (const file of texts.files) {
    if (!file.path.startsWith(PRODUCTS_PREFIX) || !isProductModulePath(file.path.slice(PRODUCTS_PREFIX.length))) continue;
    const source = byPath.get(file.path)!;
    const absolute = path.join(root, file.path);
    const found = declarationOf(source);
    if (!found.expression) {
      toLoad.push({ file, computed: [{ path: '(the module)', reason: found.reason, position: { line: 1, column: 1 } }], position: { line: 1, column: 1 } });
      continue;
    }
    const { value, computed } = evaluator.evaluate(found.expression, '');
    const position = positionOf(found.expression);
    if (computed.length > 0 || !isProductDefinition(value)) {
      const why = computed.length > 0 ? computed : [{ path: '(the declaration)', reason: 'a default export that is not a defineProduct({...}) call', position }];
      toLoad.push({ file, computed: why, ...(found.docs !== undefined && { docs: found.docs }), position });
      continue;
    }
    const name = at(value, 'name');
    if (typeof name === 'string') names.push({ name, file: absolute });
    const validation = validateProduct(value, absolute);
    problems.push(...validation.problems);
    if (validation.product) products.push({ file: file.path, product: validation.product, how: 'static', computed: [], ...(found.docs !== undefined && { docs: found.docs }), position });
  }

  if (toLoad.length > 0) {
    if (options.load === false) {
      for (const pending of toLoad) {
        problems.push({
          file: path.join(root, pending.file.path),
          path: pending.computed[0]!.path,
          message: `the product cannot be read without running it: ${pending.computed.map((c) => `${c.path} is ${c.reason} (line ${c.position.line})`).join('; ')}`,
          fix: 'write these fields as literals (strings, numbers, objects, const variables) or allow loading the module',
        });
      }
    } else {
      const loaded = await loadModules(root, texts.revision, texts.files, toLoad.map((p) => p.file.path));
      for (const pending of toLoad) {
        const absolute = path.join(root, pending.file.path);
        const result = loaded.get(pending.file.path);
        if (!result || !result.ok) {
          problems.push({ file: absolute, path: '', ...importErrorMessage(result && !result.ok ? result.error : new Error('not loaded'), absolute) });
          continue;
        }
        const declaration = defaultDeclaration(result.exports, absolute, problems);
        if (declaration === undefined) continue;
        const name = at(declaration, 'name');
        if (typeof name === 'string') names.push({ name, file: absolute });
        const validation = validateProduct(declaration, absolute);
        problems.push(...validation.problems);
        if (validation.product) {
          products.push({ file: pending.file.path, product: validation.product, how: 'loaded', computed: pending.computed, ...(pending.docs !== undefined && { docs: pending.docs }), position: pending.position });
        }
      }
    }
  }

  const duplicates = duplicateNameProblems(names);
  problems.push(...duplicates);
  const duplicated = new Set(duplicates.map((problem) => problem.file));
  return {
    revision: texts.revision,
    products: products.filter((p) => !duplicated.has(path.join(root, p.file))).sort((a, b) => a.file.localeCompare(b.file)),
    problems,
  };
}

/** The expression a module exports by default (following `export default name` to the name's const), and its doc comment. */
function declarationOf(source: SourceFile): { expression?: import('ts-morph').Expression; reason: string; docs?: string } {
  const assignment = source.getExportAssignments().find((a) => !a.isExportEquals());
  if (!assignment) {
    const named = source.getExportDeclarations().some((d) => d.getNamedExports().some((e) => e.getAliasNode()?.getText() === 'default'));
    return { reason: named ? 'an `export { … as default }`, which the reader does not follow' : 'a module without `export default`' };
  }
  const expression = assignment.getExpression();
  let docs = commentText(assignment);
  if (Node.isIdentifier(expression)) {
    const variable = source.getVariableDeclaration(expression.getText());
    const statement = variable?.getVariableStatement();
    docs = docs ?? (statement ? commentText(statement) : undefined);
    const initializer = variable?.getInitializer();
    if (initializer && statement?.getDeclarationKind() === 'const') return { expression: initializer, reason: '', ...(docs !== undefined && { docs }) };
  }
  return { expression, reason: '', ...(docs !== undefined && { docs }) };
}

/** The comments written right above a statement, without their markers; undefined when there are none. */
function commentText(node: Node): string | undefined {
  const comments = node.getLeadingCommentRanges().map((range) => range.getText());
  if (comments.length === 0) return undefined;
  const text = comments
    .map((comment) =>
      comment.startsWith('//')
        ? comment.replace(/^\/\/\s?/, '')
        : comment
            .replace(/^\/\*\*?/, '')
            .replace(/\*\/$/, '')
            .split('\n')
            .map((line) => line.replace(/^\s*\*\s?/, '').trimEnd())
            .join('\n')
            .trim(),
    )
    .join('\n')
    .trim();
  return text.length > 0 ? text : undefined;
}

function moduleResolver(byPath: ReadonlyMap<string, SourceFile>): ModuleResolver {
  const pathOf = new Map([...byPath].map(([p, file]) => [file, p]));
  return {
    resolve(from, specifier) {
      const base = pathOf.get(from);
      if (base === undefined) return undefined;
      const joined = path.posix.normalize(path.posix.join(path.posix.dirname(base), specifier));
      const stem = joined.replace(/\.(js|mjs|ts|mts)$/, '');
      for (const candidate of [joined, `${stem}.ts`, `${stem}.mts`, `${stem}.js`, `${stem}.mjs`, `${joined}/index.ts`, `${joined}/index.js`]) {
        const file = byPath.get(candidate);
        if (file) return file;
      }
      return undefined;
    },
  };
}

/** Runs the modules named: from the work tree, or from the revision's products written out beside the project. */
async function loadModules(root: string, revision: string, files: readonly ModuleText[], wanted: readonly string[]) {
  if (revision === WORKTREE) {
    const absolute = wanted.map((p) => path.join(root, p));
    const results = await importModules(absolute);
    return new Map(wanted.map((p, index) => [p, results.get(absolute[index]!)]));
  }
  // inside the project, so `import … from 'lastmile'` resolves as it does for the real products
  const folder = path.join(root, '.lastmile', 'revisions', revision);
  await rm(folder, { recursive: true, force: true });
  for (const file of files) {
    const target = path.join(folder, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.text);
  }
  try {
    const absolute = wanted.map((p) => path.join(folder, p));
    const results = await importModules(absolute);
    return new Map(wanted.map((p, index) => [p, results.get(absolute[index]!)]));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
