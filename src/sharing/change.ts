/** One change a reconcile makes (or, dry, would make) to an environment's shares. */
export interface ShareChange {
  action: 'create role' | 'create schema' | 'create view' | 'replace view' | 'drop view' | 'grant' | 'revoke' | 'grant owner';
  object: string;
  grantee?: string;
  privileges?: string[];
  /** why: declared, drift (changed by hand), removed, expired, unused */
  reason: string;
  consumer?: string;
  product?: string;
  target?: string;
}
