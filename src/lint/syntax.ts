/** Reading a module's syntax with ts-morph: regions, the dotted names of callees, and every import a module makes. */
import { Node, type SourceFile } from 'ts-morph';
import type { Region } from './types.js';

/** The region of `node` (without leading trivia). */
export function regionOf(node: Node): Region {
  return regionAt(node.getSourceFile(), node.getStart(), node.getEnd());
}

export function regionAt(file: SourceFile, start: number, end: number): Region {
  const from = file.getLineAndColumnAtPos(start);
  const to = file.getLineAndColumnAtPos(end);
  return { line: from.line, column: from.column, endLine: to.line, endColumn: to.column };
}

const GLOBAL_OBJECTS = new Set(['globalThis', 'window', 'self', 'global']);

/**
 * The dotted name an expression is written as: `Date.now`, `fs.promises.readFile`, `process.env.TOKEN`
 * (`process.env['TOKEN']` too); `globalThis.` is dropped. Undefined for anything computed (a call's result, `a[b]`).
 */
export function dottedName(expression: Node): string | undefined {
  let node = expression;
  while (Node.isParenthesizedExpression(node) || Node.isNonNullExpression(node)) node = node.getExpression();
  if (Node.isIdentifier(node)) return node.getText();
  if (Node.isPropertyAccessExpression(node)) {
    const left = dottedName(node.getExpression());
    if (left === undefined) return undefined;
    return GLOBAL_OBJECTS.has(left) ? node.getName() : `${left}.${node.getName()}`;
  }
  if (Node.isElementAccessExpression(node)) {
    const argument = node.getArgumentExpression();
    const left = dottedName(node.getExpression());
    if (left === undefined || !argument || !(Node.isStringLiteral(argument) || Node.isNoSubstitutionTemplateLiteral(argument))) return undefined;
    return GLOBAL_OBJECTS.has(left) ? argument.getLiteralText() : `${left}.${argument.getLiteralText()}`;
  }
  return undefined;
}

/** The first identifier of a dotted name: `fs` of `fs.promises.readFile`. */
export function rootName(name: string): string {
  return name.split('.')[0]!;
}

export interface ModuleImport {
  /** the module as written: `node:fs`, `@temporalio/workflow`, `./types.js` */
  readonly specifier: string;
  /** the import statement, `import()` call or `require()` call */
  readonly node: Node;
  readonly how: 'import' | 'export' | 'dynamic' | 'require';
  /** `import type`, or only type-only names: nothing of the module exists at run time */
  readonly typeOnly: boolean;
  /** local names bound to the module (`fs` of `import fs`, `readFileSync` of `import { readFileSync }`) */
  readonly locals: readonly string[];
}

/** Every import of `file`: statements, re-exports, `import('…')` and `require('…')` calls anywhere in it. */
export function importsOf(file: SourceFile): ModuleImport[] {
  const found: ModuleImport[] = [];
  for (const declaration of file.getImportDeclarations()) {
    const named = declaration.getNamedImports();
    const defaultImport = declaration.getDefaultImport();
    const namespace = declaration.getNamespaceImport();
    const typeOnly =
      declaration.isTypeOnly() ||
      (defaultImport === undefined && namespace === undefined && named.length > 0 && named.every((specifier) => specifier.isTypeOnly()));
    const locals = [
      ...(defaultImport ? [defaultImport.getText()] : []),
      ...(namespace ? [namespace.getText()] : []),
      ...named.filter((specifier) => !specifier.isTypeOnly()).map((specifier) => (specifier.getAliasNode() ?? specifier.getNameNode()).getText()),
    ];
    found.push({ specifier: declaration.getModuleSpecifierValue(), node: declaration, how: 'import', typeOnly, locals });
  }
  for (const declaration of file.getExportDeclarations()) {
    const specifier = declaration.getModuleSpecifierValue();
    if (specifier === undefined) continue;
    const named = declaration.getNamedExports();
    const typeOnly = declaration.isTypeOnly() || (named.length > 0 && named.every((element) => element.isTypeOnly()));
    found.push({ specifier, node: declaration, how: 'export', typeOnly, locals: [] });
  }
  file.forEachDescendant((node) => {
    if (!Node.isCallExpression(node)) return;
    const callee = node.getExpression();
    const [argument] = node.getArguments();
    if (!argument || !(Node.isStringLiteral(argument) || Node.isNoSubstitutionTemplateLiteral(argument))) return;
    const how = Node.isImportExpression(callee) ? 'dynamic' : Node.isIdentifier(callee) && callee.getText() === 'require' ? 'require' : undefined;
    if (how === undefined) return;
    const parent = node.getParent();
    const declared = Node.isVariableDeclaration(parent) ? parent.getNameNode() : undefined;
    const locals = declared && Node.isIdentifier(declared) ? [declared.getText()] : [];
    found.push({ specifier: argument.getLiteralText(), node, how, typeOnly: false, locals });
  });
  return found.sort((a, b) => a.node.getStart() - b.node.getStart());
}

/** `node` is a function that is only defined here, not run while the surrounding code runs. */
export function isFunctionLike(node: Node): boolean {
  return (
    Node.isFunctionDeclaration(node) ||
    Node.isFunctionExpression(node) ||
    Node.isArrowFunction(node) ||
    Node.isMethodDeclaration(node) ||
    Node.isConstructorDeclaration(node) ||
    Node.isGetAccessorDeclaration(node) ||
    Node.isSetAccessorDeclaration(node)
  );
}
