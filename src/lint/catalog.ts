/** Every rule of `lastmile lint`: its id, severity, what it finds, why it matters and the usual fix. */
import type { RuleId, Severity } from './types.js';

export interface RuleInfo {
  readonly id: RuleId;
  readonly severity: Severity;
  /** one line: what it finds */
  readonly summary: string;
  /** why it matters */
  readonly why: string;
  /** the usual fix (each finding carries its own, more specific one) */
  readonly fix: string;
}

export const RULES: readonly RuleInfo[] = [
  {
    id: 'credentials/token-shape',
    severity: 'error',
    summary: 'A string has the shape of a known credential: an AWS access key id, a GitHub, Slack, Stripe or HubSpot token, a Google API key, a JWT, a Bearer token or a PEM private key.',
    why: 'Product modules and the config live in git; a credential written there is readable by everyone with the repository and stays in its history.',
    fix: "Reference the credential by environment variable with secret('NAME'), set NAME where lastmile runs, and rotate the leaked value.",
  },
  {
    id: 'credentials/url-password',
    severity: 'error',
    summary: 'A URL carries a password (scheme://user:password@host).',
    why: 'A connection string with a password is a credential in git.',
    fix: "Remove user:password from the URL and pass the credentials by reference (secret('NAME') in a product, urlEnv: 'NAME' in the config), then rotate the password.",
  },
  {
    id: 'credentials/literal-secret',
    severity: 'error',
    summary: 'A long, high-entropy string is assigned to a field or variable whose name says it is secret (password, token, apiKey, secret, credential, privateKey, auth…).',
    why: 'A random-looking value under a secret name is almost always a real credential.',
    fix: "Write secret('NAME') in its place, set NAME where lastmile runs, and rotate the leaked value.",
  },
  {
    id: 'credentials/process-env',
    severity: 'error',
    summary: 'A product module or the config reads process.env.',
    why: "A value read from the environment when the module is loaded becomes part of the declaration: it is evaluated wherever the module is loaded (CI, a laptop) and can reach plans, logs and outputs. secret('NAME') keeps only the name and is resolved where it is needed.",
    fix: "Write secret('NAME') instead of process.env.NAME (in the config, the fields that name a variable: urlEnv, addressEnv).",
  },
  {
    id: 'side-effects/io',
    severity: 'error',
    summary: 'A product module imports a file-system module (node:fs, fs/promises, node:readline) or calls it when it is loaded.',
    why: 'Products are pure declarations: validation, plans and CI load them anywhere, many times, and expect nothing to happen.',
    fix: 'Move the file access out of the product (into seed data, an activity or a script); products are pure declarations.',
  },
  {
    id: 'side-effects/network',
    severity: 'error',
    summary: 'A product module imports a network module (node:http, https, net, tls, dns, a client package) or calls fetch / new WebSocket when it is loaded.',
    why: 'Loading a product must not call anything: validation and CI load it offline, and a request at import time runs on every load.',
    fix: 'Move the request out of the product; what a target calls is declared (a URL, secret(...)) and called by lastmile when it serves.',
  },
  {
    id: 'side-effects/child-process',
    severity: 'error',
    summary: 'A product module imports node:child_process, worker_threads or cluster, or starts a process when it is loaded.',
    why: 'Starting processes while loading a declaration runs them on every validation and plan.',
    fix: 'Move the process out of the product; products are pure declarations.',
  },
  {
    id: 'side-effects/timer',
    severity: 'error',
    summary: 'A product module starts a timer (setTimeout, setInterval, setImmediate, node:timers) when it is loaded.',
    why: 'A timer started at import keeps the loading process alive and runs code later, outside any declaration.',
    fix: 'Remove the timer; a schedule is declared on a target (schedule: { cron, timezone }).',
  },
  {
    id: 'side-effects/process',
    severity: 'error',
    summary: 'A product module ends or changes the loading process (process.exit, process.kill, process.chdir, process.abort).',
    why: 'Loading a product must never stop the CLI, the worker or CI that loads it.',
    fix: 'Remove the call; an invalid product is reported by validation, not by ending the process.',
  },
  {
    id: 'determinism/clock',
    severity: 'error',
    summary: 'Workflow code reads a clock: Date.now(), new Date() without arguments, Date(), performance.now(), process.hrtime().',
    why: 'Workflow code is replayed from its history and must decide the same way every time. The Temporal sandbox pins Date to the workflow task time, but code that relies on that reads like wall-clock time and breaks when moved out of the sandbox.',
    fix: 'Take times from the workflow input or an activity result, wait with sleep() or condition(); if the sandboxed task time is what is meant, say so with a suppression comment.',
  },
  {
    id: 'determinism/random',
    severity: 'error',
    summary: 'Workflow code uses randomness: Math.random(), crypto.randomUUID(), crypto.getRandomValues(), crypto.randomBytes().',
    why: 'A replayed workflow must make the same choices; randomness changes them.',
    fix: "Use uuid4() from '@temporalio/workflow' (seeded by the workflow), or take the value from an activity.",
  },
  {
    id: 'determinism/io',
    severity: 'error',
    summary: 'Workflow code does I/O or starts a timer: fetch, new WebSocket, file-system calls, setTimeout / setInterval / setImmediate.',
    why: 'Workflow code only decides; I/O belongs in activities (retried, recorded), and a timer must be a durable workflow timer.',
    fix: "Move the I/O into an activity and call it with proxyActivities; wait with sleep() from '@temporalio/workflow'.",
  },
  {
    id: 'determinism/import',
    severity: 'error',
    summary: 'Workflow code imports something other than @temporalio/workflow, @temporalio/common, workflow files beside it and types: a Node built-in or another package.',
    why: 'The workflow bundle runs in a sandbox without Node built-ins, and other packages may read clocks, randomness or I/O behind a call.',
    fix: "Import only '@temporalio/workflow', '@temporalio/common' and files under workflows/ (anything else with import type); move the code that needs the module into an activity.",
  },
  {
    id: 'lint/suppression',
    severity: 'error',
    summary: 'A lastmile-lint-ignore comment without a reason, or naming a rule that does not exist.',
    why: 'A suppression is a decision someone made; its reason is what the next reader needs. Such a comment suppresses nothing.',
    fix: 'Write it as // lastmile-lint-ignore <rule-id>: <reason>, with a rule id lastmile lint reports.',
  },
  {
    id: 'lint/unused-suppression',
    severity: 'warning',
    summary: 'A lastmile-lint-ignore comment whose next line has no finding of the rules it names.',
    why: 'The code it excused has changed or moved; a stale suppression would silently excuse the next thing written there.',
    fix: 'Delete the comment, or move it right above the line it is meant for.',
  },
];

const BY_ID = new Map(RULES.map((rule) => [rule.id, rule] as const));

export function ruleInfo(id: RuleId): RuleInfo {
  return BY_ID.get(id)!;
}

export function isRuleId(text: string): text is RuleId {
  return BY_ID.has(text as RuleId);
}
