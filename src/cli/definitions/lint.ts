import { defineCommand } from '../command.js';

export const lint = defineCommand({
  name: 'lint',
  summary: 'find credentials, load-time side effects in products and nondeterminism in workflows, without running them',
  description:
    'Reads products/, lastmile.config.ts and workflows/ as source text (nothing is imported or run) and reports each finding with ' +
    'its file:line:column, rule, message and fix: credentials written in products or the config, products that do I/O, network, ' +
    'processes or timers when loaded, and workflow code reading clocks or randomness, doing I/O or importing beyond the workflow SDK. ' +
    'A finding is excused by // lastmile-lint-ignore <rule-id>: <reason> on the line before. Exit 1 when any error is found.',
  arguments: [],
  options: {
    sarif: { type: 'string', value: 'FILE', description: 'also write the findings to FILE as SARIF 2.1.0 (for code scanning)' },
  },
  env: false,
  json: true,
  examples: ['lastmile lint', 'lastmile lint --json', 'lastmile lint --sarif lastmile.sarif'],
  async handler({ options, root, out }) {
    const { lintCommand } = await import('../commands/lint.js');
    return await lintCommand(root, { sarif: options.sarif }, out);
  },
});
