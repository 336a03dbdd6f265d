/**
 * credentials/*: secrets are referenced by the name of their environment variable (`secret('NAME')`), never written
 * into a product module or the config, and never read from process.env there. Every string and template part is
 * checked for known credential shapes and URLs with a password; strings under secret-looking names for randomness.
 * A finding shows a credential masked at most.
 */
import { Node, type SourceFile } from 'ts-morph';
import { containsUrlWithPassword, isSecretFieldName } from '../../product/secret-scan.js';
import { ENV_VAR_NAME } from '../../product/secret.js';
import { looksRandom, shannonEntropy } from '../entropy.js';
import { mask } from '../mask.js';
import { dottedName, regionAt, regionOf } from '../syntax.js';
import { findTokenShapes } from '../token-shapes.js';
import type { RawFinding } from '../types.js';

/** Passwords in URLs that only stand for one (`postgres://user:<password>@host`). */
const PLACEHOLDER_PASSWORD = /^(?:\*+|x+|\.\.\.|…|<[^>]*>|\[[^\]]*\]|\{[^}]*\}|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_]+%|password|pass|pwd|secret)$/i;

/** A field named for a password holds one whatever it looks like (a passphrase of plain words too). */
const PASSWORD_NAME = /(?:password|passwd|passphrase|pwd)$/i;
const MIN_PASSWORD_LENGTH = 6;

export function credentialFindings(file: SourceFile): RawFinding[] {
  const found: RawFinding[] = [];
  file.forEachDescendant((node) => {
    const text = stringText(node);
    if (text !== undefined) {
      found.push(...stringFindings(node, text));
      return;
    }
    const env = processEnvRead(node);
    if (env) found.push(env);
  });
  return found;
}

/** The text of a string literal or a template part worth checking; undefined for other nodes and module names. */
function stringText(node: Node): string | undefined {
  if (Node.isStringLiteral(node) || Node.isNoSubstitutionTemplateLiteral(node)) {
    const parent = node.getParent();
    if (Node.isImportDeclaration(parent) || Node.isExportDeclaration(parent) || Node.isExternalModuleReference(parent)) return undefined;
    if (Node.isCallExpression(parent) && parent.getArguments()[0] === node) {
      const callee = parent.getExpression();
      if (Node.isImportExpression(callee) || ['require', 'secret'].includes(dottedName(callee) ?? '')) return undefined;
    }
    return node.getLiteralText();
  }
  if (Node.isTemplateHead(node) || Node.isTemplateMiddle(node) || Node.isTemplateTail(node)) {
    // a tagged template may hold escapes that have no cooked value (sql`\d`): read the raw text then
    return (node.compilerNode.text as string | undefined) ?? node.compilerNode.rawText ?? '';
  }
  return undefined;
}

function stringFindings(node: Node, text: string): RawFinding[] {
  const found: RawFinding[] = [];
  const name = assignedName(node);
  for (const token of findTokenShapes(text)) {
    found.push({
      ...regionOfPart(node, token.text),
      rule: 'credentials/token-shape',
      message: `${token.what} is written in the module (${mask(token.text)})${name ? ` under '${name}'` : ''}; credentials must never be in git`,
      fix: referenceFix(name),
    });
  }
  for (const word of text.split(/[\s'"`<>()]+/)) {
    if (!containsUrlWithPassword(word)) continue;
    const shown = maskedUrl(word);
    if (shown === undefined) continue;
    found.push({
      ...regionOfPart(node, word),
      rule: 'credentials/url-password',
      message: `a URL with a password is written in the module (${shown}); credentials must never be in git`,
      fix:
        "remove user:password from the URL and pass the credentials by reference — credentials: secret('NAME') in a product, " +
        "urlEnv: 'NAME' (a variable holding the whole URL) in the config — then rotate the password",
    });
  }
  const whole = Node.isStringLiteral(node) || Node.isNoSubstitutionTemplateLiteral(node);
  if (found.length > 0 || !whole || name === undefined || !isSecretFieldName(name) || ENV_VAR_NAME.test(text)) return found;
  if (looksRandom(text)) {
    found.push({
      ...regionOf(node),
      rule: 'credentials/literal-secret',
      message:
        `'${name}' holds a literal that looks like a credential (${mask(text)}: ${text.length} characters, ` +
        `${shannonEntropy(text).toFixed(1)} bits of entropy per character); secrets must never be written into products or the config`,
      fix: referenceFix(name),
    });
  } else if (PASSWORD_NAME.test(name) && text.length >= MIN_PASSWORD_LENGTH && !/\s/.test(text) && !PLACEHOLDER_PASSWORD.test(text)) {
    found.push({
      ...regionOf(node),
      rule: 'credentials/literal-secret',
      message: `'${name}' holds a literal password (${mask(text)}); secrets must never be written into products or the config`,
      fix: referenceFix(name),
    });
  }
  return found;
}

function referenceFix(name: string | undefined): string {
  const env = name ? envNameFor(name) : 'NAME';
  return `reference it by environment variable instead: ${name ?? 'the field'}: secret('${env}'), set ${env} where lastmile runs, and rotate the leaked value`;
}

/** `API_KEY` for `apiKey`. */
function envNameFor(name: string): string {
  const env = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
  return /^[A-Z_]/.test(env) ? env : `X_${env}`;
}

/** `postgres://app:…@db.internal`; undefined when the password is a placeholder. */
function maskedUrl(word: string): string | undefined {
  const url = word.slice(Math.max(0, word.search(/[a-z][a-z0-9+.-]*:\/\//i)));
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]+)@([^\s/?#]*)/i.exec(url);
  if (!match) return `${word.slice(0, 4)}…`;
  const [, scheme, user, password, host] = match;
  if (PLACEHOLDER_PASSWORD.test(password!)) return undefined;
  return `${scheme}${user}:…@${host}`;
}

/** The region of `part` inside the literal `node` when it is written as is, else the literal's region. */
function regionOfPart(node: Node, part: string): ReturnType<typeof regionOf> {
  const raw = node.getText();
  const index = raw.indexOf(part);
  if (index < 0) return regionOf(node);
  const start = node.getStart() + index;
  return regionAt(node.getSourceFile(), start, start + part.length);
}

/** The name a string is assigned to: `token` of `token: '…'`, `const token = '…'`, `config.token = '…'`. */
function assignedName(node: Node): string | undefined {
  let child: Node = node;
  let parent = node.getParent();
  while (parent && (Node.isAsExpression(parent) || Node.isParenthesizedExpression(parent) || Node.isSatisfiesExpression(parent))) {
    child = parent;
    parent = parent.getParent();
  }
  if (!parent) return undefined;
  if (Node.isPropertyAssignment(parent) && parent.getInitializer() === child) return propertyName(parent.getNameNode());
  if ((Node.isVariableDeclaration(parent) || Node.isPropertyDeclaration(parent) || Node.isParameterDeclaration(parent)) && parent.getInitializer() === child) {
    return propertyName(parent.getNameNode());
  }
  if (Node.isBinaryExpression(parent) && parent.getOperatorToken().getText() === '=' && parent.getRight() === child) {
    const left = dottedName(parent.getLeft());
    return left?.split('.').pop();
  }
  return undefined;
}

function propertyName(name: Node): string | undefined {
  if (Node.isIdentifier(name) || Node.isPrivateIdentifier(name)) return name.getText().replace(/^#/, '');
  if (Node.isStringLiteral(name) || Node.isNoSubstitutionTemplateLiteral(name)) return name.getLiteralText();
  return undefined;
}

/** `process.env.X`, `process.env['X']` or a bare `process.env` (destructured, passed on). */
function processEnvRead(node: Node): RawFinding | undefined {
  if (!Node.isPropertyAccessExpression(node) || node.getName() !== 'env' || dottedName(node.getExpression()) !== 'process') return undefined;
  const parent = node.getParent();
  let variable: string | undefined;
  let whole: Node = node;
  if (Node.isPropertyAccessExpression(parent) && parent.getExpression() === node) {
    variable = parent.getName();
    whole = parent;
  } else if (Node.isElementAccessExpression(parent) && parent.getExpression() === node) {
    const argument = parent.getArgumentExpression();
    variable = argument && (Node.isStringLiteral(argument) || Node.isNoSubstitutionTemplateLiteral(argument)) ? argument.getLiteralText() : undefined;
    whole = parent;
  }
  const destructured = whole === node ? destructuredNames(parent) : [];
  const written =
    variable !== undefined ? `process.env.${variable}` : destructured.length > 0 ? `process.env (${destructured.join(', ')})` : whole === node ? 'process.env' : 'process.env[…]';
  const names = variable !== undefined ? [variable] : destructured;
  const reference = names.length > 0 ? names.map((name) => `secret('${name}')`).join(', ') : "secret('NAME')";
  return {
    ...regionOf(whole),
    rule: 'credentials/process-env',
    message: `${written} is read when the module is loaded, so its value becomes part of the declaration wherever it is loaded`,
    fix: `write ${reference} instead (read where lastmile runs, when it is needed); in lastmile.config.ts name the variable in the field made for it (urlEnv, addressEnv)`,
  };
}

/** `A`, `B` of `const { A, B: b } = process.env`. */
function destructuredNames(parent: Node | undefined): string[] {
  if (!Node.isVariableDeclaration(parent)) return [];
  const pattern = parent.getNameNode();
  if (!Node.isObjectBindingPattern(pattern)) return [];
  return pattern.getElements().map((element) => (element.getPropertyNameNode() ?? element.getNameNode()).getText());
}
