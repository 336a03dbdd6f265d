import type { Output } from '../output.js';
import { table } from '../output.js';
import type { Project } from '../../runtime/session.js';
import { EXIT } from '../exit-codes.js';
import { unservable } from '../../../workflows/kinds.js';
import type { Product } from '../../product/model.js';

/** `lastmile list`: the products with their owners and serving targets. */
export function listCommand(project: Project, out: Output): number {
  const products = [...project.products.values()].sort((a, b) => a.name.localeCompare(b.name));
  if (out.json) {
    out.printJson(
      products.map((p) => ({
        name: p.name,
        version: p.version,
        owner: p.owner,
        domain: p.domain,
        audience: p.audience,
        description: p.description,
        targets: p.serve.map((t) => ({ name: t.name, kind: t.kind, schedule: t.schedule ?? null, unservable: unservable(t.kind) ?? null })),
        checks: p.checks.length,
        file: p.file,
      })),
    );
    return EXIT.ok;
  }
  out.print(
    table(
      ['product', 'version', 'owner', 'audience', 'targets'],
      products.map((p) => [
        p.name,
        p.version,
        p.owner.team,
        p.audience,
        p.serve.map((t) => `${t.name} (${t.kind}${t.schedule ? `, ${t.schedule.cron} ${t.schedule.timezone}` : ''}${unservable(t.kind) ? ', not served' : ''})`).join('; '),
      ]),
    ),
  );
  const unserved = unservableLines(products);
  if (unserved.length > 0) out.print(`\n${unserved.join('\n')}`);
  return EXIT.ok;
}

/** One line per target this version of lastmile cannot serve, saying why (list and validate print them). */
export function unservableLines(products: readonly Product[]): string[] {
  return products.flatMap((p) =>
    p.serve.flatMap((t) => {
      const reason = unservable(t.kind);
      return reason ? [`not served: ${p.name}/${t.name} — ${reason}; its runs end incomplete and it gets no schedule`] : [];
    }),
  );
}
