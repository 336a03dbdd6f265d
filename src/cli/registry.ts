/** Every command of the `lastmile` CLI, in the order `lastmile --help` lists them. */
import type { CommandDefinition } from './command.js';
import { access, share, usage } from './definitions/access.js';
import { catalog } from './definitions/catalog.js';
import { checks } from './definitions/checks.js';
import { approve, reject } from './definitions/decide.js';
import { deploy, deployments } from './definitions/deploy.js';
import { dev } from './definitions/dev.js';
import { devserver } from './definitions/devserver.js';
import { diff } from './definitions/diff.js';
import { lint } from './definitions/lint.js';
import { list } from './definitions/list.js';
import { plan } from './definitions/plan.js';
import { ciRecord, promote, rollback } from './definitions/promote.js';
import { quarantine } from './definitions/quarantine.js';
import { revoke } from './definitions/revoke.js';
import { run } from './definitions/run.js';
import { runs } from './definitions/runs.js';
import { slo } from './definitions/slo.js';
import { sql } from './definitions/sql.js';
import { status } from './definitions/status.js';
import { syncs } from './definitions/syncs.js';
import { validate } from './definitions/validate.js';
import { warehouse } from './definitions/warehouse.js';
import { worker } from './definitions/worker.js';

export const COMMANDS: readonly CommandDefinition[] = [dev, validate, lint, diff, plan, deploy, promote, rollback, deployments, ciRecord, list, run, status, runs, checks, quarantine, slo, access, share, usage, syncs, catalog, approve, reject, revoke, sql, warehouse, worker, devserver];

export function commandNamed(name: string): CommandDefinition | undefined {
  return COMMANDS.find((command) => command.name === name);
}
