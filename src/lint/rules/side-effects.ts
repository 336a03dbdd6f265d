/**
 * side-effects/*: a product module is a pure declaration. It may not import modules that do file-system, network,
 * process or timer work, nor do such work (fetch, timers, process.exit…) in the code that runs when it is loaded.
 */
import { Node, type SourceFile } from 'ts-morph';
import { forEachLoadTimeNode } from '../load-time.js';
import { EFFECT_WORDS, effectOf, type EffectKind } from '../modules.js';
import { dottedName, importsOf, regionOf, rootName } from '../syntax.js';
import type { RawFinding, RuleId } from '../types.js';

type Effect = EffectKind | 'process';

const GLOBAL_CALLS: Readonly<Record<string, Effect>> = {
  fetch: 'network',
  setTimeout: 'timer',
  setInterval: 'timer',
  setImmediate: 'timer',
  'process.exit': 'process',
  'process.kill': 'process',
  'process.abort': 'process',
  'process.chdir': 'process',
};

const GLOBAL_CONSTRUCTORS: Readonly<Record<string, Effect>> = {
  WebSocket: 'network',
  EventSource: 'network',
  XMLHttpRequest: 'network',
};

const FIX: Readonly<Record<Effect, string>> = {
  io: 'move the file access out of the product (data belongs in the warehouse or the seed, code that reads files in an activity or src/); products are pure declarations',
  network: "remove the request: a product declares where its data goes (a URL, secret('NAME')) and lastmile calls it when it serves the target",
  'child-process': 'move it out of the product; products are pure declarations that lastmile loads many times (validation, plans, CI)',
  timer: 'remove the timer; a schedule is declared on a target (schedule: { cron, timezone })',
  process: 'remove the call; an invalid product is reported by lastmile validate, and loading a product must never end or move the process',
};

const rule = (effect: Effect): RuleId => `side-effects/${effect}`;

export function sideEffectFindings(file: SourceFile): RawFinding[] {
  const found: RawFinding[] = [];
  const bound = new Map<string, { specifier: string; effect: EffectKind }>();
  for (const imported of importsOf(file)) {
    const effect = effectOf(imported.specifier);
    if (effect === undefined || imported.typeOnly) continue;
    for (const local of imported.locals) bound.set(local, { specifier: imported.specifier, effect });
    found.push({
      ...regionOf(imported.node),
      rule: rule(effect),
      message: `the product module imports ${imported.specifier} (${EFFECT_WORDS[effect]}); a product module is a pure declaration`,
      fix: `move the code that needs ${imported.specifier} out of the product (into an activity, a seed or a script); products are pure declarations`,
    });
  }
  forEachLoadTimeNode(file, (node) => {
    if (!Node.isCallExpression(node) && !Node.isNewExpression(node)) return;
    const name = dottedName(node.getExpression());
    if (name === undefined) return;
    const viaImport = bound.get(rootName(name));
    const effect: Effect | undefined = viaImport?.effect ?? (Node.isNewExpression(node) ? GLOBAL_CONSTRUCTORS[name] : GLOBAL_CALLS[name]);
    if (effect === undefined) return;
    const written = `${Node.isNewExpression(node) ? 'new ' : ''}${name}(…)`;
    const what = effect === 'process' ? 'changes the process that loads it' : EFFECT_WORDS[effect];
    found.push({
      ...regionOf(node),
      rule: rule(effect),
      message: `${written} runs when the product module is loaded (${what})`,
      fix: FIX[effect],
    });
  });
  return found;
}
