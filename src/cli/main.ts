/**
 * The `lastmile` command line: finds the command in the registry, answers --help / --version, parses and checks the
 * arguments against the command's definition, runs its handler, and turns an error into its exit code (report.ts).
 */
import { readFileSync } from 'node:fs';
import { closest, didYouMean } from '../text/suggest.js';
import { acceptedOptions, ENV_OPTION, GLOBAL_OPTIONS, type OptionSpecs } from './command.js';
import { EXIT, UsageError } from './exit-codes.js';
import { commandHelp, globalHelp, VERSION_OPTION } from './help.js';
import { createOutput } from './output.js';
import { checkArguments, parseCommand, splitCommand } from './parse.js';
import { COMMANDS, commandNamed } from './registry.js';
import { reportError } from './report.js';

// The AWS SDK warns on every Node below 22 that its releases after January 2027 will need Node 22. lastmile locks
// the SDK version it was tested with (package-lock.json), so in the CLI's own process the warning is only noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Every option any command takes: to tell the command word from an option's value (`--root DIR status`). */
const ANY_OPTION: OptionSpecs = Object.assign({}, ...COMMANDS.map(acceptedOptions)) as OptionSpecs;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

async function main(argv: readonly string[]): Promise<number> {
  const { command: word, rest } = splitCommand(argv, ANY_OPTION);
  if (word === undefined) {
    checkGlobalOptions(rest);
    if (rest.includes('--version')) {
      process.stdout.write(`lastmile ${version()}\n`);
      return EXIT.ok;
    }
    const help = rest.includes('--help') || rest.includes('-h');
    if (!help && rest.includes('--json')) throw new UsageError('no command given. Run lastmile --help for the list.');
    process.stdout.write(`${globalHelp(COMMANDS)}\n`);
    return help ? EXIT.ok : EXIT.usage;
  }
  if (word === 'help') {
    const [topic, ...more] = rest.filter((arg) => !arg.startsWith('-'));
    if (topic === undefined) {
      process.stdout.write(`${globalHelp(COMMANDS)}\n`);
      return EXIT.ok;
    }
    if (more.length > 0) throw new UsageError(`help takes one command, got '${[topic, ...more].join("', '")}'. Run lastmile --help for the list.`);
    const definition = commandNamed(topic);
    if (!definition) throw unknownCommand(topic);
    process.stdout.write(`${commandHelp(definition)}\n`);
    return EXIT.ok;
  }
  const definition = commandNamed(word);
  if (!definition) throw unknownCommand(word);
  const parsed = parseCommand(definition, rest);
  if (parsed.globals.help) {
    process.stdout.write(`${commandHelp(definition)}\n`);
    return EXIT.ok;
  }
  checkArguments(definition, parsed);
  const out = createOutput({ json: parsed.globals.json, debug: parsed.globals.debug });
  return await definition.handler({
    options: parsed.options,
    args: parsed.args,
    root: parsed.globals.root ?? process.cwd(),
    env: parsed.globals.env ?? 'dev',
    out,
  });
}

/** Without a command only the global options (and --version) mean something. */
function checkGlobalOptions(args: readonly string[]): void {
  const known: OptionSpecs = { ...ENV_OPTION, ...GLOBAL_OPTIONS, ...VERSION_OPTION };
  for (const arg of args) {
    if (!arg.startsWith('-') || arg === '-') continue;
    if (arg === '--') return;
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0]! : arg.slice(1);
    const isKnown = arg.startsWith('--') ? known[name] !== undefined : Object.values(known).some((spec) => spec.short === name);
    if (isKnown) continue;
    const meant = arg.startsWith('--') ? closest(name, Object.keys(known)) : undefined;
    throw new UsageError(`unknown option ${arg}. ${meant ? `Did you mean --${meant}? ` : ''}Run lastmile --help for the commands and their options.`);
  }
}

function unknownCommand(word: string): UsageError {
  const names = [...COMMANDS.map((c) => c.name), 'help'];
  return new UsageError(`unknown command '${word}'. ${didYouMean(word, names)}Run lastmile --help for the list.`);
}

// Known before parsing, so that an error in the command line itself is reported the way it was asked for.
const argv = process.argv.slice(2);
const wanted = { json: argv.includes('--json'), debug: argv.includes('--debug') };
main(argv).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(reportError(error, wanted)),
);
