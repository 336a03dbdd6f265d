import path from 'node:path';
import { formatProblems } from '../../product/problems.js';
import { diffReads } from '../../static/diff/product-diff.js';
import { diffMarkdown, diffText } from '../../static/diff/render.js';
import { readProducts } from '../../static/read.js';
import type { StaticRead } from '../../static/types.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

/**
 * `lastmile diff [--from REV] [--to REV] [--markdown]`: exit 1 when a product's breaking change lacks a major version
 * bump, or when a product at `--to` cannot be read (its absence would look like a removal).
 */
export async function diffCommand(root: string, options: { from: string; to?: string; markdown: boolean }, out: Output): Promise<number> {
  const [from, to] = await Promise.all([readProducts(root, { revision: options.from }), readProducts(root, options.to === undefined ? {} : { revision: options.to })]);
  const invalid = new Set(to.problems.flatMap((p) => (p.file ? [path.relative(root, p.file).split(path.sep).join('/')] : [])));
  const diff = diffReads(from, to, invalid);
  const fallbacks = [...loadedNotes(from, options.from), ...loadedNotes(to, options.to ?? 'the work tree')];
  if (out.json) {
    out.printJson({ ...diff, ok: diff.summary.refused === 0 && to.problems.length === 0, problems: { from: from.problems, to: to.problems }, loaded: fallbacks });
  } else {
    for (const note of fallbacks) out.note(note);
    if (from.problems.length > 0) out.note(`${from.problems.length} problem(s) in the products at ${options.from}; those modules are left out of the comparison:\n${formatProblems(from.problems, { cwd: root })}`);
    if (to.problems.length > 0) out.print(`the products at ${options.to ?? 'the work tree'} have problems, so the diff cannot judge them (a module that does not validate would look removed):\n${formatProblems(to.problems, { cwd: root })}\n`);
    out.print(options.markdown ? diffMarkdown(diff) : diffText(diff));
  }
  return diff.summary.refused > 0 || to.problems.length > 0 ? EXIT.failed : EXIT.ok;
}

/** One note per product that had to be loaded (run) because a field is computed. */
export function loadedNotes(read: StaticRead, revision: string): string[] {
  return read.products
    .filter((p) => p.how === 'loaded')
    .map((p) => `${p.file} at ${revision} was loaded (run) to read it, because ${p.computed.map((c) => `${c.path} is ${c.reason} (line ${c.position.line})`).join('; ')}`);
}
