import { defineCommand } from '../command.js';

export const diff = defineCommand({
  name: 'diff',
  summary: "compare the products' contracts between two git revisions, each change classified breaking, needs review or non-breaking",
  description:
    'Reads every product at both revisions without running them (git objects, no checkout) and compares contracts, metrics, ' +
    'targets and share consumers. A breaking change (a column removed or renamed, a type changed incompatibly, a column that may ' +
    'now be NULL, the key changed, a metric removed or redefined, a target or share column removed) is accepted only with a major ' +
    'version bump; otherwise the product is refused and the command exits 1. --from defaults to HEAD, --to to the work tree.',
  arguments: [],
  options: {
    from: { type: 'string', value: 'REV', description: 'the revision to compare from (default HEAD)' },
    to: { type: 'string', value: 'REV', description: 'the revision to compare to (default the work tree)' },
    markdown: { type: 'boolean', description: 'print Markdown, ready for a pull-request comment' },
  },
  env: false,
  json: true,
  examples: ['lastmile diff', 'lastmile diff --from main', 'lastmile diff --from v1.2.0 --to HEAD --markdown'],
  async handler({ options, root, out }) {
    const { diffCommand } = await import('../commands/diff.js');
    return await diffCommand(root, { from: options.from ?? 'HEAD', ...(options.to !== undefined && { to: options.to }), markdown: options.markdown }, out);
  },
});
