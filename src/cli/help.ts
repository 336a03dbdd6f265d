/** The help texts, all read from the command definitions: `lastmile --help` and `lastmile <command> --help`. */
import { ENV_OPTION, GLOBAL_OPTIONS, usageLine, type CommandDefinition, type OptionSpecs } from './command.js';

const WIDTH = 110;

/** `lastmile --version`, taken only without a command (revoke has a --version of its own). */
export const VERSION_OPTION = { version: { type: 'boolean', description: 'print the version of lastmile' } } as const satisfies OptionSpecs;

/** `lastmile --help`: every command with one line, the global options, the exit codes. */
export function globalHelp(commands: readonly CommandDefinition[]): string {
  const entries = [
    ...commands.map((c) => [commandWords(c), c.summary] as const),
    ['help [command]', 'this list, or the usage, options and an example of one command'] as const,
  ];
  return [
    'lastmile — data products as code, served by durable Temporal workflows',
    '',
    'Usage: lastmile <command> [options]',
    '',
    'Commands:',
    ...columns(entries),
    '',
    'Run lastmile <command> --help for its options and an example.',
    '',
    'Options:',
    ...optionLines({ ...ENV_OPTION, ...GLOBAL_OPTIONS, ...VERSION_OPTION }),
    '',
    'Exit codes: 0 success · 1 a run failed or was blocked, or products/config are invalid · 2 bad command line ·',
    '3 something needed is unavailable (warehouse, Temporal, an environment variable)',
  ].join('\n');
}

/** `lastmile <command> --help`: what it does, its usage, arguments, its own options and the global ones, an example. */
export function commandHelp(command: CommandDefinition): string {
  const own: OptionSpecs = { ...command.options, ...(command.env ? ENV_OPTION : {}) };
  const lines = [`lastmile ${command.name} — ${command.summary}`, '', `Usage: ${usageLine(command)}`];
  if (command.description) lines.push('', wrap(command.description, ''));
  if (command.arguments.length > 0) {
    lines.push('', 'Arguments:', ...columns(command.arguments.map((a) => [a.choices?.length === 1 ? a.choices[0]! : `<${a.name}>`, a.description] as const)));
  }
  if (Object.keys(own).length > 0) lines.push('', 'Options:', ...optionLines(own));
  lines.push('', 'Global options:', ...optionLines(GLOBAL_OPTIONS));
  lines.push('', command.examples.length === 1 ? 'Example:' : 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** `run <product>`, `warehouse url`: the command with its arguments, as the command list shows it. */
function commandWords(command: CommandDefinition): string {
  const args = command.arguments.map((a) => {
    const word = a.choices?.length === 1 ? a.choices[0]! : `<${a.name}>`;
    return a.optional ? `[${word}]` : word;
  });
  return [command.name, ...args].join(' ');
}

function optionLines(options: OptionSpecs): string[] {
  return columns(
    Object.entries(options).map(([name, spec]) => {
      const long = spec.type === 'string' ? `--${name} ${spec.value ?? 'VALUE'}` : `--${name}`;
      return [spec.short ? `-${spec.short}, ${long}` : long, `${spec.description}${spec.multiple ? ' (may be repeated)' : ''}`] as const;
    }),
  );
}

/** Two columns: the names padded to the widest (at most 28), the text wrapped under itself. */
function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.min(28, Math.max(...rows.map(([left]) => left.length)));
  return rows.map(([left, text]) => {
    const pad = ' '.repeat(width + 4);
    if (left.length > width) return `  ${left}\n${wrap(text, pad)}`;
    return `  ${left.padEnd(width)}  ${wrap(text, pad).slice(pad.length)}`;
  });
}

/** `text` wrapped at the help's width, every line starting with `indent`. */
function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > indent.length && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent;
    }
    line += line.length > indent.length ? ` ${word}` : word;
  }
  lines.push(line);
  return lines.join('\n');
}
