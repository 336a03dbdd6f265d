/**
 * determinism/*: workflow code is replayed from its history, so it must decide the same way every time — no clock,
 * no randomness, no I/O or timers of its own, and no imports beyond the workflow SDK, files under workflows/ and types.
 */
import path from 'node:path';
import { Node, type SourceFile } from 'ts-morph';
import { builtinName, effectOf, packageName } from '../modules.js';
import { dottedName, importsOf, regionOf, rootName, type ModuleImport } from '../syntax.js';
import type { RawFinding, RuleId } from '../types.js';

/** What workflow code may import for its values (type-only imports of anything are fine). */
export const WORKFLOW_PACKAGES: readonly string[] = ['@temporalio/workflow', '@temporalio/common'];

interface Use {
  readonly rule: RuleId;
  readonly what: string;
  readonly fix: string;
}

const CLOCK_FIX =
  "take the time from the workflow input or an activity's result, and wait with sleep() or condition() from '@temporalio/workflow'; " +
  'if the sandbox\'s pinned workflow task time is what is meant, say so: // lastmile-lint-ignore determinism/clock: <reason>';
const RANDOM_FIX = "use uuid4() from '@temporalio/workflow' (seeded by the workflow), or take the value from an activity";
const TIMER_FIX = "wait with sleep(ms) from '@temporalio/workflow': a durable timer that survives worker restarts and replays";
const IO_FIX = 'move the I/O into an activity (activities/, logic in src/) and call it through proxyActivities';

const clock = (what: string): Use => ({ rule: 'determinism/clock', what: `${what} reads the clock`, fix: CLOCK_FIX });
const random = (what: string): Use => ({ rule: 'determinism/random', what: `${what} is random`, fix: RANDOM_FIX });

const CALLS: Readonly<Record<string, Use>> = {
  'Date.now': clock('Date.now()'),
  Date: clock('Date()'),
  'performance.now': clock('performance.now()'),
  'process.hrtime': clock('process.hrtime()'),
  'process.hrtime.bigint': clock('process.hrtime.bigint()'),
  'process.uptime': clock('process.uptime()'),
  'Math.random': random('Math.random()'),
  'crypto.randomUUID': random('crypto.randomUUID()'),
  'crypto.getRandomValues': random('crypto.getRandomValues()'),
  'crypto.randomBytes': random('crypto.randomBytes()'),
  'crypto.randomInt': random('crypto.randomInt()'),
  fetch: { rule: 'determinism/io', what: 'fetch(…) does network I/O', fix: IO_FIX },
  setTimeout: { rule: 'determinism/io', what: 'setTimeout(…) starts a timer that is not a durable workflow timer', fix: TIMER_FIX },
  setInterval: { rule: 'determinism/io', what: 'setInterval(…) starts a timer that is not a durable workflow timer', fix: TIMER_FIX },
  setImmediate: { rule: 'determinism/io', what: 'setImmediate(…) schedules work outside the workflow\'s history', fix: TIMER_FIX },
};

const CONSTRUCTORS: Readonly<Record<string, Use>> = {
  WebSocket: { rule: 'determinism/io', what: 'new WebSocket(…) opens a connection', fix: IO_FIX },
  EventSource: { rule: 'determinism/io', what: 'new EventSource(…) opens a connection', fix: IO_FIX },
  XMLHttpRequest: { rule: 'determinism/io', what: 'new XMLHttpRequest() does network I/O', fix: IO_FIX },
};

/** Findings of the workflow module `file` (at `absolutePath`), whose project keeps its workflows in `workflowsDir`. */
export function determinismFindings(file: SourceFile, options: { absolutePath: string; workflowsDir: string }): RawFinding[] {
  const found: RawFinding[] = [];
  const effectful = new Set<string>();
  for (const imported of importsOf(file)) {
    if (!imported.typeOnly && effectOf(imported.specifier) !== undefined) for (const local of imported.locals) effectful.add(local);
    const problem = importProblem(imported, options);
    if (problem) found.push({ ...regionOf(imported.node), rule: 'determinism/import', ...problem });
  }
  file.forEachDescendant((node) => {
    if (!Node.isCallExpression(node) && !Node.isNewExpression(node)) return;
    const name = dottedName(node.getExpression());
    if (name === undefined) return;
    let use: Use | undefined;
    if (Node.isNewExpression(node)) {
      use = name === 'Date' && (node.getArguments()?.length ?? 0) === 0 ? clock('new Date()') : CONSTRUCTORS[name];
    } else {
      use = CALLS[name];
    }
    if (use === undefined && effectful.has(rootName(name))) {
      use = { rule: 'determinism/io', what: `${name}(…) uses a module with side effects`, fix: IO_FIX };
    }
    if (use === undefined) return;
    found.push({ ...regionOf(node), rule: use.rule, message: `${use.what} in workflow code, which must replay the same way every time`, fix: use.fix });
  });
  return found;
}

function importProblem(imported: ModuleImport, options: { absolutePath: string; workflowsDir: string }): { message: string; fix: string } | undefined {
  const { specifier } = imported;
  if (imported.typeOnly || WORKFLOW_PACKAGES.includes(specifier)) return undefined;
  const moveFix = "move the code that needs it into an activity, or write import type when only its types are used; workflow code imports only '@temporalio/workflow', '@temporalio/common' and files under workflows/";
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const target = path.resolve(path.dirname(options.absolutePath), specifier);
    const inside = path.relative(options.workflowsDir, target);
    if (!inside.startsWith('..') && !path.isAbsolute(inside)) return undefined;
    return {
      message: `imports ${specifier}, a module outside workflows/, for its values; the workflow bundle would carry it and all it imports into the sandbox`,
      fix: 'write import type when only its types are used, or move the pure code it needs into workflows/',
    };
  }
  if (builtinName(specifier) !== undefined) {
    return { message: `imports the Node built-in ${specifier}; the workflow sandbox has no Node built-ins, and they bring clocks, randomness and I/O`, fix: moveFix };
  }
  return {
    message: `imports the package ${packageName(specifier) ?? specifier}; other packages than the workflow SDK may read clocks, randomness or do I/O behind a call`,
    fix: moveFix,
  };
}
