/**
 * The command line against a command's definition: node's `parseArgs` splits it into tokens, and lastmile judges
 * them itself, so an unknown option, a missing value or a stray argument is answered in lastmile's words (with the
 * option meant, when it is close) instead of Node's parser messages.
 */
import { parseArgs } from 'node:util';
import { closest } from '../text/suggest.js';
import { acceptedOptions, usageLine, type CommandDefinition, type OptionSpecs, type OptionValues } from './command.js';
import { UsageError } from './exit-codes.js';

/** The options every command takes, parsed. */
export interface GlobalValues {
  json: boolean;
  debug: boolean;
  help: boolean;
  root?: string;
  env?: string;
}

export interface ParsedCommand<O extends OptionSpecs> {
  options: OptionValues<O>;
  globals: GlobalValues;
  args: string[];
}

/**
 * The command word of `argv` and the rest: the first word that is neither an option nor the value of one (`--root
 * DIR status` is the command `status`). `options` are all options any command takes, to know which take a value.
 */
export function splitCommand(argv: readonly string[], options: OptionSpecs): { command?: string; rest: string[] } {
  const takesValue = (token: string): boolean => {
    if (token.includes('=')) return false;
    if (token.startsWith('--')) return options[token.slice(2)]?.type === 'string';
    const short = token.slice(1);
    return short.length === 1 && Object.values(options).some((spec) => spec.short === short && spec.type === 'string');
  };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') break;
    if (token.startsWith('-') && token !== '-') {
      if (takesValue(token)) i++;
      continue;
    }
    return { command: token, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { rest: [...argv] };
}

/** Parses the arguments of one command (the command word removed); throws `UsageError` in lastmile's words. */
export function parseCommand<O extends OptionSpecs>(definition: CommandDefinition<O>, argv: readonly string[]): ParsedCommand<O> {
  const accepted = acceptedOptions(definition);
  const config = Object.fromEntries(
    Object.entries(accepted).map(([name, spec]) => [name, { type: spec.type, ...(spec.short && { short: spec.short }), ...(spec.multiple && { multiple: true }) }]),
  );
  const { tokens } = parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true });
  const seeHelp = `Run lastmile ${definition.name} --help.`;
  const values: Record<string, string | boolean | string[]> = {};
  const args: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      args.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const spec = accepted[token.name];
    if (!spec) {
      const meant = token.rawName.startsWith('--') ? closest(token.name, Object.keys(accepted)) : undefined;
      throw new UsageError(
        `${definition.name} has no option ${token.rawName}. ${meant ? `Did you mean --${meant}? ` : ''}${seeHelp}`,
      );
    }
    const shown = token.rawName;
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${definition.name}: ${shown} takes no value, got '${token.value}'. ${seeHelp}`);
      values[token.name] = true;
      continue;
    }
    const value = token.value;
    // parseArgs without `strict` takes the next word as the value even when it is an option: `--target --json`
    const isOption = value !== undefined && !token.inlineValue && /^--?[A-Za-z]/.test(value) && optionNamed(value, accepted);
    if (value === undefined || isOption) {
      throw new UsageError(`${definition.name}: ${shown} needs a value (${token.rawName} ${spec.value ?? 'VALUE'}). ${seeHelp}`);
    }
    if (spec.multiple) values[token.name] = [...((values[token.name] as string[] | undefined) ?? []), value];
    else values[token.name] = value;
  }
  const options = Object.fromEntries(
    Object.entries(definition.options).map(([name, spec]) => [name, values[name] ?? (spec.type === 'boolean' ? false : undefined)]),
  ) as OptionValues<O>;
  const globals: GlobalValues = {
    json: values.json === true,
    debug: values.debug === true,
    help: values.help === true,
    ...(typeof values.root === 'string' && { root: values.root }),
    ...(typeof values.env === 'string' && { env: values.env }),
  };
  return { options, globals, args };
}

/** True when `word` is `--name`, `--name=…` or `-x` of an accepted option. */
function optionNamed(word: string, accepted: OptionSpecs): boolean {
  if (word.startsWith('--')) return accepted[word.slice(2).split('=')[0]!] !== undefined;
  return Object.values(accepted).some((spec) => spec.short === word.slice(1));
}

/** The arguments and required options are all there (after --help was looked at); throws `UsageError` otherwise. */
export function checkArguments<O extends OptionSpecs>(definition: CommandDefinition<O>, parsed: ParsedCommand<O>): void {
  const seeHelp = `Run lastmile ${definition.name} --help.`;
  const usage = usageLine(definition);
  const required = definition.arguments.filter((a) => !a.optional);
  if (parsed.args.length < required.length) {
    const missing = required.slice(parsed.args.length).map((a) => (a.choices?.length ? a.choices.join(' or ') : `<${a.name}>`));
    throw new UsageError(`${definition.name} needs ${missing.join(' and ')}: ${usage}. ${seeHelp}`);
  }
  if (parsed.args.length > definition.arguments.length) {
    const extra = parsed.args.slice(definition.arguments.length).map((a) => `'${a}'`);
    const takes = definition.arguments.length === 0 ? 'takes no arguments' : `takes ${definition.arguments.map((a) => `<${a.name}>`).join(' ')} only`;
    throw new UsageError(`${definition.name} ${takes}, but got ${extra.join(', ')}: ${usage}. ${seeHelp}`);
  }
  definition.arguments.forEach((spec, i) => {
    const given = parsed.args[i];
    if (given === undefined || !spec.choices || spec.choices.includes(given)) return;
    const meant = closest(given, spec.choices);
    throw new UsageError(`${definition.name} has no subcommand '${given}'. ${meant ? `Did you mean '${meant}'? ` : ''}${seeHelp}`);
  });
  for (const [name, spec] of Object.entries(definition.options)) {
    const value = (parsed.options as Record<string, unknown>)[name];
    if (spec.required && (value === undefined || (Array.isArray(value) && value.length === 0))) {
      throw new UsageError(`${definition.name} needs --${name} ${spec.value ?? 'VALUE'}: ${usage}. ${seeHelp}`);
    }
  }
}

/** `--limit 20` as a number; a `UsageError` naming the option when it is not a whole number from 1 to `max`. */
export function positiveInteger(text: string | undefined, option: string, command: string, fallback: number, max = 1000): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`${command}: --${option} must be a whole number from 1 to ${max}, got '${text}'. Run lastmile ${command} --help.`);
  }
  return n;
}
