/**
 * What the warehouse actually grants, read from the catalog — never from what the config claims: the views lastmile
 * manages in share schemas (recognized by their comment), who may read each (table and column ACLs), who may use each
 * share schema, and the roles. The reconcile compares this with the plan; `lastmile access` prints it.
 */
import type pg from 'pg';

/** A view's comment marks it lastmile's and says what it serves and what its definition hash is. */
export const VIEW_MARK = 'lastmile share';
export const SCHEMA_MARK = 'lastmile share schema';

export interface ViewMark {
  product: string;
  target: string;
  consumer: string;
  hash: string;
}

export function viewComment(mark: ViewMark): string {
  return `${VIEW_MARK} ${JSON.stringify(mark)}`;
}

export function parseViewComment(comment: string | null): ViewMark | undefined {
  if (!comment?.startsWith(`${VIEW_MARK} {`)) return undefined;
  try {
    const value = JSON.parse(comment.slice(VIEW_MARK.length + 1)) as Partial<ViewMark>;
    return typeof value.product === 'string' && typeof value.target === 'string' && typeof value.consumer === 'string' && typeof value.hash === 'string'
      ? { product: value.product, target: value.target, consumer: value.consumer, hash: value.hash }
      : undefined;
  } catch {
    return undefined;
  }
}

export interface CatalogView {
  schema: string;
  name: string;
  owner: string;
  mark: ViewMark | undefined;
  securityBarrier: boolean;
  /** roles (other than the owner) holding any privilege on the view, with the privileges */
  grants: Map<string, Set<string>>;
  /** roles holding column privileges on it */
  columnGrants: Map<string, Set<string>>;
  /** the relations the view reads now (after renames and swaps they may not be the ones it was made on) */
  reads: string[];
}

export interface CatalogSchema {
  name: string;
  owner: string;
  marked: boolean;
  /** roles (other than the owner) holding privileges on the schema */
  grants: Map<string, Set<string>>;
}

export interface Catalog {
  schemas: Map<string, CatalogSchema>;
  views: Map<string, CatalogView>;
  roles: Map<string, { superuser: boolean; bypassRls: boolean; login: boolean }>;
}

export const key = (schema: string, name: string): string => `${schema}.${name}`;

/** Reads the share schemas `names` (and every schema marked lastmile's), their views and grants, and the given roles. */
export async function readCatalog(client: pg.ClientBase, schemaNames: readonly string[], roleNames: readonly string[]): Promise<Catalog> {
  const schemas = await client.query<{ name: string; owner: string; comment: string | null; grantee: string | null; privilege: string | null }>(
    `select n.nspname as name, pg_get_userbyid(n.nspowner) as owner, obj_description(n.oid, 'pg_namespace') as comment,
            case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end as grantee, a.privilege_type as privilege
       from pg_namespace n
       left join lateral aclexplode(n.nspacl) a on a.grantee <> n.nspowner
      where n.nspname = any($1::text[]) or obj_description(n.oid, 'pg_namespace') = $2`,
    [schemaNames, SCHEMA_MARK],
  );
  const catalog: Catalog = { schemas: new Map(), views: new Map(), roles: new Map() };
  for (const row of schemas.rows) {
    let schema = catalog.schemas.get(row.name);
    if (!schema) catalog.schemas.set(row.name, (schema = { name: row.name, owner: row.owner, marked: row.comment === SCHEMA_MARK, grants: new Map() }));
    if (row.grantee && row.privilege) add(schema.grants, row.grantee, row.privilege);
  }
  const names = [...catalog.schemas.keys()];
  const views = await client.query<{
    schema: string; name: string; owner: string; comment: string | null; options: string[] | null;
    grantee: string | null; privilege: string | null;
  }>(
    `select n.nspname as schema, c.relname as name, pg_get_userbyid(c.relowner) as owner, obj_description(c.oid, 'pg_class') as comment,
            c.reloptions as options,
            case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end as grantee, a.privilege_type as privilege
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       left join lateral aclexplode(c.relacl) a on a.grantee <> c.relowner
      where n.nspname = any($1::text[]) and c.relkind = 'v'`,
    [names],
  );
  for (const row of views.rows) {
    const id = key(row.schema, row.name);
    let view = catalog.views.get(id);
    if (!view) {
      view = {
        schema: row.schema,
        name: row.name,
        owner: row.owner,
        mark: parseViewComment(row.comment),
        securityBarrier: (row.options ?? []).some((option) => /^security_barrier=(true|on|1)$/i.test(option)),
        grants: new Map(),
        columnGrants: new Map(),
        reads: [],
      };
      catalog.views.set(id, view);
    }
    if (row.grantee && row.privilege) add(view.grants, row.grantee, row.privilege);
  }
  if (catalog.views.size > 0) {
    const columns = await client.query<{ schema: string; name: string; grantee: string; privilege: string }>(
      `select n.nspname as schema, c.relname as name,
              case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end as grantee, a.privilege_type as privilege
         from pg_attribute att join pg_class c on c.oid = att.attrelid join pg_namespace n on n.oid = c.relnamespace
         cross join lateral aclexplode(att.attacl) a
        where n.nspname = any($1::text[]) and c.relkind = 'v' and att.attacl is not null and a.grantee <> c.relowner`,
      [names],
    );
    for (const row of columns.rows) {
      const view = catalog.views.get(key(row.schema, row.name));
      if (view) add(view.columnGrants, row.grantee, row.privilege);
    }
    const reads = await client.query<{ schema: string; name: string; reads: string }>(
      `select distinct n.nspname as schema, v.relname as name, rn.nspname || '.' || rc.relname as reads
         from pg_class v join pg_namespace n on n.oid = v.relnamespace
         join pg_rewrite r on r.ev_class = v.oid
         join pg_depend d on d.objid = r.oid and d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
         join pg_class rc on rc.oid = d.refobjid join pg_namespace rn on rn.oid = rc.relnamespace
        where n.nspname = any($1::text[]) and v.relkind = 'v' and d.refobjid <> v.oid`,
      [names],
    );
    for (const row of reads.rows) catalog.views.get(key(row.schema, row.name))?.reads.push(row.reads);
  }
  const roles = await client.query<{ name: string; superuser: boolean; bypassrls: boolean; login: boolean }>(
    `select rolname as name, rolsuper as superuser, rolbypassrls as bypassrls, rolcanlogin as login from pg_roles where rolname = any($1::text[])`,
    [roleNames],
  );
  for (const row of roles.rows) catalog.roles.set(row.name, { superuser: row.superuser, bypassRls: row.bypassrls, login: row.login });
  return catalog;
}

function add(map: Map<string, Set<string>>, grantee: string, privilege: string): void {
  let set = map.get(grantee);
  if (!set) map.set(grantee, (set = new Set()));
  set.add(privilege);
}

/** Whether the warehouse holds any schema lastmile made for shares (a deploy that removes the last share must revoke it). */
export async function shareSchemasExist(client: Pick<pg.ClientBase, 'query'>): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>(`select exists (select 1 from pg_namespace n where obj_description(n.oid, 'pg_namespace') = $1) as found`, [SCHEMA_MARK]);
  return rows[0]?.found === true;
}
