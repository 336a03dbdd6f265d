import type { Node } from 'ts-morph';
import type { SourcePosition } from './types.js';

/** Where a node starts, 1-based line and column as editors show them. */
export function positionOf(node: Node): SourcePosition {
  const { line, column } = node.getSourceFile().getLineAndColumnAtPos(node.getStart());
  return { line, column };
}
