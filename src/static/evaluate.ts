/**
 * Evaluating a declaration from its syntax tree, without running the module: literals, object and array literals
 * (spreads of literal values included), untagged templates of literal parts, the `sql` tag, `as const` and
 * `satisfies`, `const` variables written in the module (or exported by a sibling module of the same read), and calls
 * of lastmile's own declaration helpers (`defineProduct`, `table`, `check.*`, `dashboard`, …) — which are pure and run
 * on the evaluated arguments. Anything else (a user's function, `process.env`, a conditional) is not guessed: the
 * field's path is recorded as computed, with what the expression is.
 */
import { Node, SyntaxKind, type Expression, type SourceFile } from 'ts-morph';
import { check } from '../product/checks.js';
import { secret } from '../product/secret.js';
import { defineProduct } from '../product/spec.js';
import { sql, table } from '../product/source.js';
import { dashboard, files, reverseEtl, share } from '../product/targets.js';
import type { ComputedField } from './types.js';
import { positionOf } from './position.js';

/** lastmile's declaration helpers a product may call, by the name it exports them under. */
const HELPERS: Readonly<Record<string, unknown>> = { defineProduct, sql, table, check, dashboard, files, share, reverseEtl, secret };

/** How a module refers to a binding another module of the read exports (a relative import). */
export interface ModuleResolver {
  /** the source file a relative specifier of `from` names, if it is part of the read */
  resolve(from: SourceFile, specifier: string): SourceFile | undefined;
}

const NOT_STATIC = Symbol('not static');
type Value = unknown;

export interface Evaluation {
  value: Value;
  computed: ComputedField[];
}

export class Evaluator {
  private readonly computed: ComputedField[] = [];
  private readonly active = new Set<Node>();

  constructor(private readonly resolver: ModuleResolver) {}

  /** Evaluates `node`, recording every field it could not read under `path`. */
  evaluate(node: Expression, path: string): Evaluation {
    this.computed.length = 0;
    const value = this.value(node, path);
    return { value: value === NOT_STATIC ? undefined : value, computed: [...this.computed] };
  }

  private miss(node: Node, path: string, reason: string): typeof NOT_STATIC {
    this.computed.push({ path: path || '(the declaration)', reason, position: positionOf(node) });
    return NOT_STATIC;
  }

  private value(node: Node, path: string): Value {
    if (Node.isStringLiteral(node) || Node.isNoSubstitutionTemplateLiteral(node)) return node.getLiteralValue();
    if (Node.isNumericLiteral(node)) return node.getLiteralValue();
    if (Node.isTrueLiteral(node)) return true;
    if (Node.isFalseLiteral(node)) return false;
    if (Node.isNullLiteral(node)) return null;
    if (Node.isParenthesizedExpression(node) || Node.isAsExpression(node) || Node.isSatisfiesExpression(node) || Node.isNonNullExpression(node) || Node.isTypeAssertion(node)) {
      return this.value(node.getExpression(), path);
    }
    if (Node.isPrefixUnaryExpression(node) && node.getOperatorToken() === SyntaxKind.MinusToken) {
      const operand = this.value(node.getOperand(), path);
      if (operand === NOT_STATIC) return NOT_STATIC;
      return typeof operand === 'number' ? -operand : this.miss(node, path, `a negation of ${describe(node.getOperand())}`);
    }
    if (Node.isObjectLiteralExpression(node)) return this.object(node, path);
    if (Node.isArrayLiteralExpression(node)) return this.array(node, path);
    if (Node.isTemplateExpression(node)) return this.template(node, path);
    if (Node.isTaggedTemplateExpression(node)) return this.tagged(node, path);
    if (Node.isBinaryExpression(node) && node.getOperatorToken().getKind() === SyntaxKind.PlusToken) {
      const left = this.value(node.getLeft(), path);
      const right = this.value(node.getRight(), path);
      if (left === NOT_STATIC || right === NOT_STATIC) return NOT_STATIC;
      if ((typeof left === 'string' || typeof left === 'number') && (typeof right === 'string' || typeof right === 'number')) {
        return typeof left === 'number' && typeof right === 'number' ? left + right : `${left}${right}`;
      }
      return this.miss(node, path, 'a sum of values that are not strings or numbers');
    }
    if (Node.isIdentifier(node)) return this.identifier(node, path);
    if (Node.isCallExpression(node)) return this.call(node, path);
    if (Node.isPropertyAccessExpression(node) && isProcessEnv(node.getExpression())) {
      return this.miss(node, path, `process.env.${node.getName()} (read where the module runs; write secret('${node.getName()}') for a credential)`);
    }
    return this.miss(node, path, describe(node));
  }

  private object(node: import('ts-morph').ObjectLiteralExpression, path: string): Value {
    const result: Record<string, Value> = {};
    let complete = true;
    for (const property of node.getProperties()) {
      if (Node.isSpreadAssignment(property)) {
        const spread = this.value(property.getExpression(), path);
        if (spread === NOT_STATIC) complete = false;
        else if (typeof spread === 'object' && spread !== null && !Array.isArray(spread)) Object.assign(result, spread);
        else complete = this.fail(property, path, 'a spread of something that is not an object');
        continue;
      }
      if (Node.isShorthandPropertyAssignment(property)) {
        const name = property.getName();
        const value = this.identifier(property.getNameNode(), join(path, name));
        if (value === NOT_STATIC) complete = false;
        else result[name] = value;
        continue;
      }
      if (Node.isPropertyAssignment(property)) {
        const name = this.propertyName(property.getNameNode(), path);
        if (name === undefined) {
          complete = false;
          continue;
        }
        const value = this.value(property.getInitializerOrThrow(), join(path, name));
        if (value === NOT_STATIC) complete = false;
        else if (value !== undefined) result[name] = value;
        continue;
      }
      complete = this.fail(property, path, Node.isMethodDeclaration(property) ? `a method ${property.getName()}()` : 'an accessor');
    }
    return complete ? result : NOT_STATIC;
  }

  private fail(node: Node, path: string, reason: string): false {
    this.miss(node, path, reason);
    return false;
  }

  private propertyName(name: Node, path: string): string | undefined {
    if (Node.isIdentifier(name) || Node.isPrivateIdentifier(name)) return name.getText();
    if (Node.isStringLiteral(name) || Node.isNoSubstitutionTemplateLiteral(name)) return name.getLiteralValue();
    if (Node.isNumericLiteral(name)) return String(name.getLiteralValue());
    if (Node.isComputedPropertyName(name)) {
      const key = this.value(name.getExpression(), path);
      if (key === NOT_STATIC) return undefined;
      if (typeof key === 'string' || typeof key === 'number') return String(key);
      this.miss(name, path, 'a computed property name that is not a string');
      return undefined;
    }
    this.miss(name, path, 'a property name lastmile cannot read');
    return undefined;
  }

  private array(node: import('ts-morph').ArrayLiteralExpression, path: string): Value {
    const result: Value[] = [];
    let complete = true;
    node.getElements().forEach((element) => {
      const at = `${path}[${result.length}]`;
      if (Node.isSpreadElement(element)) {
        const spread = this.value(element.getExpression(), at);
        if (spread === NOT_STATIC) complete = false;
        else if (Array.isArray(spread)) result.push(...(spread as Value[]));
        else complete = this.fail(element, at, 'a spread of something that is not an array');
        return;
      }
      if (Node.isOmittedExpression(element)) {
        result.push(undefined);
        return;
      }
      const value = this.value(element, at);
      if (value === NOT_STATIC) {
        complete = false;
        result.push(undefined);
      } else result.push(value);
    });
    return complete ? result : NOT_STATIC;
  }

  private template(node: import('ts-morph').TemplateExpression, path: string): Value {
    let text = node.getHead().getLiteralText();
    let complete = true;
    for (const span of node.getTemplateSpans()) {
      const value = this.value(span.getExpression(), path);
      if (value === NOT_STATIC) complete = false;
      else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') text += String(value);
      else complete = this.fail(span.getExpression(), path, 'a template part that is not a string or number');
      text += span.getLiteral().getLiteralText();
    }
    return complete ? text : NOT_STATIC;
  }

  private tagged(node: import('ts-morph').TaggedTemplateExpression, path: string): Value {
    const tag = this.helperName(node.getTag());
    if (tag !== 'sql') return this.miss(node, path, `a template tagged with ${node.getTag().getText()}`);
    const template = node.getTemplate();
    const strings: string[] = [];
    const raw: string[] = [];
    const values: Value[] = [];
    let complete = true;
    if (Node.isNoSubstitutionTemplateLiteral(template)) {
      strings.push(template.getLiteralText());
      raw.push(rawText(template));
    } else {
      strings.push(template.getHead().getLiteralText());
      raw.push(rawText(template.getHead()));
      template.getTemplateSpans().forEach((span, index) => {
        const value = this.value(span.getExpression(), `${path}.tables[${index}]`);
        if (value === NOT_STATIC) complete = false;
        values.push(value);
        strings.push(span.getLiteral().getLiteralText());
        raw.push(rawText(span.getLiteral()));
      });
    }
    if (!complete) return NOT_STATIC;
    const parts = Object.assign([...strings], { raw }) as unknown as TemplateStringsArray;
    return (sql as (s: TemplateStringsArray, ...v: unknown[]) => unknown)(parts, ...values);
  }

  private identifier(node: Node, path: string): Value {
    const name = node.getText();
    if (name === 'undefined') return undefined;
    const helper = this.helperName(node);
    if (helper !== undefined) return HELPERS[helper];
    const declaration = this.declarationOf(node);
    if (!declaration) return this.miss(node, path, `the name ${name}, declared where lastmile cannot read it`);
    if (typeof declaration === 'string') return this.miss(node, path, declaration);
    if (this.active.has(declaration)) return this.miss(node, path, `the name ${name}, which refers to itself`);
    this.active.add(declaration);
    try {
      return this.value(declaration, path);
    } finally {
      this.active.delete(declaration);
    }
  }

  /** The initializer of the `const` a name refers to (following relative imports), or why there is none. */
  private declarationOf(node: Node, file = node.getSourceFile(), name = node.getText(), hops = 0): Expression | string | undefined {
    if (hops > 8) return `the name ${name}, re-exported too many times`;
    for (const statement of file.getVariableStatements()) {
      for (const variable of statement.getDeclarations()) {
        if (variable.getName() !== name) continue;
        if (statement.getDeclarationKind() !== 'const') return `the name ${name}, a ${statement.getDeclarationKind()} variable (it may change; declare it const)`;
        const initializer = variable.getInitializer();
        return initializer ?? `the name ${name}, declared without a value`;
      }
    }
    for (const declaration of file.getImportDeclarations()) {
      const specifier = declaration.getModuleSpecifierValue();
      for (const named of declaration.getNamedImports()) {
        const local = named.getAliasNode()?.getText() ?? named.getName();
        if (local !== name) continue;
        if (!specifier.startsWith('.')) return `the name ${name}, imported from '${specifier}'`;
        const target = this.resolver.resolve(file, specifier);
        if (!target) return `the name ${name}, imported from '${specifier}', which is not part of the read`;
        return this.exportedDeclaration(target, named.getName(), hops + 1) ?? `the name ${named.getName()}, which '${specifier}' does not export as a const`;
      }
      if (declaration.getDefaultImport()?.getText() === name) {
        return `the name ${name}, the default export of '${specifier}'`;
      }
    }
    for (const fn of file.getFunctions()) if (fn.getName() === name) return `the function ${name}`;
    return undefined;
  }

  private exportedDeclaration(file: SourceFile, name: string, hops: number): Expression | string | undefined {
    const local = file.getVariableStatements().some((s) => s.isExported() && s.getDeclarations().some((d) => d.getName() === name));
    if (local) return this.declarationOf(file, file, name, hops);
    for (const exported of file.getExportDeclarations()) {
      const specifier = exported.getModuleSpecifierValue();
      for (const named of exported.getNamedExports()) {
        if ((named.getAliasNode()?.getText() ?? named.getName()) !== name) continue;
        if (!specifier) return this.declarationOf(file, file, named.getName(), hops);
        const target = specifier.startsWith('.') ? this.resolver.resolve(file, specifier) : undefined;
        if (!target) return `the name ${name}, re-exported from '${specifier}'`;
        return this.exportedDeclaration(target, named.getName(), hops + 1);
      }
    }
    return undefined;
  }

  private call(node: import('ts-morph').CallExpression, path: string): Value {
    const callee = node.getExpression();
    const helper = this.helperName(callee);
    if (helper === undefined) return this.miss(node, path, `a call to ${callee.getText()}()`);
    const fn = this.helperFunction(callee, helper);
    if (typeof fn !== 'function') return this.miss(node, path, `a call to ${callee.getText()}(), which lastmile does not declare`);
    const args: Value[] = [];
    let complete = true;
    for (const argument of node.getArguments()) {
      const value = this.value(argument, path);
      if (value === NOT_STATIC) complete = false;
      args.push(value);
    }
    if (!complete) return NOT_STATIC;
    return (fn as (...a: unknown[]) => unknown)(...args);
  }

  private helperFunction(callee: Node, helper: string): unknown {
    const base = HELPERS[helper];
    if (Node.isPropertyAccessExpression(callee) && this.helperName(callee.getExpression()) === helper) {
      const member = (base as Record<string, unknown> | undefined)?.[callee.getName()];
      return typeof member === 'function' ? member.bind(base) : member;
    }
    return base;
  }

  /**
   * The lastmile export a name stands for, if it is one: `check` for `check` (imported from 'lastmile', maybe
   * aliased) and for `check.notNull`; `defineProduct` for `lm.defineProduct` under `import * as lm from 'lastmile'`.
   */
  private helperName(node: Node): string | undefined {
    if (Node.isPropertyAccessExpression(node)) {
      const inner = node.getExpression();
      if (Node.isIdentifier(inner) && this.namespaceImport(inner)) return node.getName() in HELPERS ? node.getName() : undefined;
      return this.helperName(inner);
    }
    if (!Node.isIdentifier(node)) return undefined;
    for (const declaration of node.getSourceFile().getImportDeclarations()) {
      if (declaration.getModuleSpecifierValue() !== 'lastmile' || declaration.isTypeOnly()) continue;
      for (const named of declaration.getNamedImports()) {
        if ((named.getAliasNode()?.getText() ?? named.getName()) === node.getText() && named.getName() in HELPERS) return named.getName();
      }
    }
    return undefined;
  }

  private namespaceImport(node: Node): boolean {
    return node
      .getSourceFile()
      .getImportDeclarations()
      .some((d) => d.getModuleSpecifierValue() === 'lastmile' && d.getNamespaceImport()?.getText() === node.getText());
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function isProcessEnv(node: Node): boolean {
  return Node.isPropertyAccessExpression(node) && node.getName() === 'env' && node.getExpression().getText() === 'process';
}

/** A template part as written (escapes kept), what `strings.raw` holds at run time. */
function rawText(node: Node): string {
  const literal = node.compilerNode as { rawText?: string; text?: string };
  return literal.rawText ?? literal.text ?? '';
}

function describe(node: Node): string {
  if (Node.isConditionalExpression(node)) return 'a conditional expression';
  if (Node.isArrowFunction(node) || Node.isFunctionExpression(node)) return 'a function';
  if (Node.isAwaitExpression(node)) return 'an await';
  if (Node.isNewExpression(node)) return `a new ${node.getExpression().getText()}(…)`;
  if (Node.isElementAccessExpression(node) || Node.isPropertyAccessExpression(node)) return `the property ${node.getText()}`;
  if (Node.isBinaryExpression(node)) return `an expression with ${node.getOperatorToken().getText()}`;
  return `an expression (${node.getKindName()})`;
}
