/**
 * What a command of the `lastmile` CLI is: one definition holds its name, what it does, its usage line, its
 * arguments and options (each with one line of help), an example and its handler. Help, parsing and validation all
 * read it (registry.ts lists them), so a command accepts exactly the options its help shows.
 */
import type { Output } from './output.js';

/** One option of a command, as `parseArgs` takes it, plus its help. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** may be given several times (the values collect in an array) */
  readonly multiple?: boolean;
  /** the placeholder of its value in help: `--target T` */
  readonly value?: string;
  /** the command cannot run without it (checked before the handler runs) */
  readonly required?: boolean;
  /** one line for the help */
  readonly description: string;
}

export type OptionSpecs = { readonly [name: string]: OptionSpec };

/** The parsed values of a command's own options: booleans false when absent, optional strings undefined. */
export type OptionValues<O extends OptionSpecs> = {
  -readonly [K in keyof O]: O[K] extends { type: 'boolean' }
    ? boolean
    : O[K] extends { multiple: true }
      ? O[K] extends { required: true } ? string[] : string[] | undefined
      : O[K] extends { required: true } ? string : string | undefined;
};

/** A positional argument. */
export interface ArgumentSpec {
  /** as in the usage line: `product` shows as `<product>` */
  readonly name: string;
  readonly description: string;
  readonly optional?: boolean;
  /** the only words accepted (a subcommand such as `warehouse url`) */
  readonly choices?: readonly string[];
}

/** What every handler gets. */
export interface CommandArgs<O extends OptionSpecs> {
  options: OptionValues<O>;
  /** the positional arguments, as many as the definition declares (optional ones may be missing) */
  args: string[];
  /** the project folder (`--root`, else the working directory) */
  root: string;
  /** `--env` (default dev), for commands that take it */
  env: string;
  out: Output;
}

export interface CommandDefinition<O extends OptionSpecs = OptionSpecs> {
  readonly name: string;
  /** one line in `lastmile --help` */
  readonly summary: string;
  /** a short paragraph in `lastmile <command> --help` */
  readonly description?: string;
  readonly arguments: readonly ArgumentSpec[];
  /** the command's own options (the global ones are added: see GLOBAL_OPTIONS and `env`) */
  readonly options: O;
  /** takes `--env E` */
  readonly env: boolean;
  /** has a `--json` form of its result (errors are JSON with --json everywhere) */
  readonly json: boolean;
  /** command lines shown under "Example" */
  readonly examples: readonly string[];
  handler(args: CommandArgs<O>): Promise<number>;
}

/** Identity, for inference: the handler's `options` are typed from `options`. */
export function defineCommand<const O extends OptionSpecs>(definition: CommandDefinition<O>): CommandDefinition<O> {
  return definition;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  json: { type: 'boolean', description: 'machine-readable output on stdout; errors as one JSON object with the exit code' },
  root: { type: 'string', value: 'DIR', description: 'the project folder (default: the current directory)' },
  debug: { type: 'boolean', description: 'stack traces with errors' },
  help: { type: 'boolean', short: 'h', description: 'this help' },
} as const satisfies OptionSpecs;

/** `--env E`, for the commands that work in an environment. */
export const ENV_OPTION = {
  env: { type: 'string', value: 'E', description: 'the environment from lastmile.config.ts (default dev)' },
} as const satisfies OptionSpecs;

/** Every option `definition` accepts: its own, `--env` when it takes one, and the global ones. */
export function acceptedOptions(definition: CommandDefinition): OptionSpecs {
  return { ...definition.options, ...(definition.env ? ENV_OPTION : {}), ...GLOBAL_OPTIONS };
}

/** `run <product> [--target T] [--env E] [--json]` */
export function usageLine(definition: CommandDefinition): string {
  const args = definition.arguments.map((a) => {
    const word = a.choices?.length === 1 ? a.choices[0]! : `<${a.name}>`;
    return a.optional ? `[${word}]` : word;
  });
  const own: OptionSpecs = { ...definition.options, ...(definition.env ? ENV_OPTION : {}) };
  const options = Object.entries(own).map(([name, spec]) => {
    const word = spec.type === 'boolean' ? `--${name}` : `--${name} ${spec.value ?? 'VALUE'}`;
    return `${spec.required ? word : `[${word}]`}${spec.multiple ? '...' : ''}`;
  });
  return ['lastmile', definition.name, ...args, ...options, ...(definition.json ? ['[--json]'] : [])].join(' ');
}
