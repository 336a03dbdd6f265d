/**
 * Real logins for the data-sharing tests: a LOGIN role that is a member of a consumer role, connecting over TCP as a
 * consumer's notebook would. `end()` closes every connection made.
 */
import pg from 'pg';

export interface Logins {
  /** A new login in `role` (made again if it exists), connected to `database`. */
  as(role: string): Promise<pg.Client>;
  end(): Promise<void>;
}

export function realLogins(admin: pg.Pool, urlFor: (database: string) => string, database = 'warehouse_dev'): Logins {
  const clients: pg.Client[] = [];
  return {
    async as(role) {
      const login = `login_${role.replace(/[^a-z0-9_]/g, '_')}`;
      await admin.query(`drop role if exists ${login}`);
      await admin.query(`create role ${login} login password 'pw-${login}'`);
      await admin.query(`grant ${role} to ${login}`);
      const url = new URL(urlFor(database));
      url.username = login;
      url.password = `pw-${login}`;
      const client = new pg.Client({ connectionString: url.toString() });
      // a connection the server ends (its shutdown at the end of a suite) must not crash the test process
      client.on('error', () => undefined);
      await client.connect();
      clients.push(client);
      return client;
    },
    async end() {
      for (const client of clients.splice(0)) await client.end().catch(() => undefined);
    },
  };
}
