/**
 * Which code of a module runs when it is imported: everything at module scope, including the functions that run on
 * the spot (an IIFE, the callback of `[…].map` or `.then`, a `new Promise` executor) and static class blocks — but
 * not the bodies of functions that are only defined there.
 */
import { Node, type SourceFile } from 'ts-morph';
import { dottedName, isFunctionLike } from './syntax.js';

/** Methods that call the function they are given before (or soon after) they return. */
const CALLS_ITS_CALLBACK = new Set([
  'map', 'forEach', 'filter', 'reduce', 'reduceRight', 'flatMap', 'some', 'every', 'find', 'findIndex', 'findLast',
  'findLastIndex', 'sort', 'toSorted', 'then', 'catch', 'finally', 'from', 'call', 'apply',
]);

/** `fn` runs while the code around it runs: called on the spot, or handed to a method that calls it. */
export function runsImmediately(fn: Node): boolean {
  let child: Node = fn;
  let parent = fn.getParent();
  while (parent && Node.isParenthesizedExpression(parent)) {
    child = parent;
    parent = parent.getParent();
  }
  if (!parent) return false;
  if (Node.isCallExpression(parent) && parent.getExpression() === child) return true;
  // (function () { … }).call(this)
  if (Node.isPropertyAccessExpression(parent) && ['call', 'apply'].includes(parent.getName())) {
    const call = parent.getParent();
    return Node.isCallExpression(call) && call.getExpression() === parent;
  }
  if (Node.isCallExpression(parent) && parent.getArguments().includes(child)) {
    const callee = parent.getExpression();
    return Node.isPropertyAccessExpression(callee) && CALLS_ITS_CALLBACK.has(callee.getName());
  }
  if (Node.isNewExpression(parent) && parent.getArguments()?.includes(child)) return dottedName(parent.getExpression()) === 'Promise';
  return false;
}

/** Calls `visit` for every node of `file` that is evaluated when the module is imported. */
export function forEachLoadTimeNode(file: SourceFile, visit: (node: Node) => void): void {
  const walk = (node: Node): void => {
    if (isFunctionLike(node) && !runsImmediately(node)) return;
    if (Node.isPropertyDeclaration(node) && !node.isStatic()) return;
    if (Node.isTypeNode(node) || Node.isInterfaceDeclaration(node) || Node.isTypeAliasDeclaration(node)) return;
    visit(node);
    node.forEachChild(walk);
  };
  file.forEachChild(walk);
}
