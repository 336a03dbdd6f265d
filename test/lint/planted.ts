/**
 * Credentials planted at run time for the lint tests: credential-shaped values are assembled from parts and a
 * deterministic generator, so none is ever written in the repository (where a secret scanner would rightly object).
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Deterministic pseudo-random text: credential-shaped values exist only while the test runs. */
function fake(length: number, alphabet: string, seed: number): string {
  let state = seed;
  let out = '';
  for (let i = 0; i < length; i += 1) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out += alphabet[state % alphabet.length];
  }
  return out;
}
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const ALNUM = `${UPPER}abcdefghijklmnopqrstuvwxyz${DIGITS}`;
const HEX = '0123456789abcdef';

/** Every planted value: none may appear whole (nor its middle) in any output of lastmile lint. */
export const PLANTED = {
  aws: ['AK', 'IA', fake(16, UPPER + DIGITS, 1)].join(''),
  github: ['ghp', '_', fake(36, ALNUM, 2)].join(''),
  slack: ['xo', 'xb-', fake(12, DIGITS, 3), '-', fake(24, ALNUM, 4)].join(''),
  stripe: ['sk', '_live_', fake(24, ALNUM, 5)].join(''),
  hubspot: ['pat', '-na1-', fake(8, HEX, 6), '-', fake(4, HEX, 7), '-', fake(4, HEX, 8), '-', fake(4, HEX, 9), '-', fake(12, HEX, 10)].join(''),
  google: ['AI', 'za', fake(35, ALNUM, 11)].join(''),
  jwt: ['ey', 'J', fake(20, ALNUM, 12), '.ey', 'J', fake(30, ALNUM, 13), '.', fake(43, ALNUM, 14)].join(''),
  bearer: fake(40, ALNUM, 15),
  stripeInSql: ['rk', '_live_', fake(24, ALNUM, 16)].join(''),
  password: fake(14, ALNUM, 17),
  apiKey: fake(32, ALNUM, 18),
  passphrase: 'correct-horse-battery-staple',
  lineagePassword: fake(12, ALNUM, 19),
};

export function plantedProduct(): string {
  const p = PLANTED;
  return `import { defineProduct, sql } from 'lastmile';

const host = 'db';
export const awsKeyId = '${p.aws}';
export const github = "${p.github}";
export const slack = \`${p.slack}\`;
export const stripe = '${p.stripe}';
export const hubspot = { token: '${p.hubspot}' };
export const google = '${p.google}';
export const session = '${p.jwt}';
export const header = \`Authorization: Bearer ${p.bearer}\`;
export const pem = '-----BEGIN ' + 'RSA PRIVATE KEY-----';
export const pemWhole = '-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA';
export const warehouse = 'postgres://loader:${p.password}@db.internal:5432/shop';
export const partial = \`mysql://loader:${p.password}@\${host}/shop\`;
export const settings = { apiKey: '${p.apiKey}', password: '${p.passphrase}', token: 'HUBSPOT_TOKEN', auth: 'oauth2-client-credentials', secret: 'short' };
export const query = sql\`select 1 as one -- \${host} ${p.stripeInSql}\`;
export const fine = { url: 'https://api.example.com/v1?auth=header', sample: 'postgres://app:<password>@db/shop', email: 'data@example.com' };
export default defineProduct;
`;
}

export function plantedConfig(): string {
  return `import { defineConfig } from 'lastmile';

export default defineConfig({
  environments: { dev: {}, prod: { warehouse: { urlEnv: 'LASTMILE_PROD_WAREHOUSE_URL' } } },
  promotion: ['dev', 'prod'],
  lineage: { url: 'https://lineage:${PLANTED.lineagePassword}@lineage.example.com' },
});
`;
}

/** A temporary project with the planted credentials. */
export async function plantedProject(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'lastmile-lint-'));
  await mkdir(path.join(root, 'products'));
  await writeFile(path.join(root, 'products', 'planted.ts'), plantedProduct());
  await writeFile(path.join(root, 'lastmile.config.ts'), plantedConfig());
  return root;
}

