import { defineConfig } from 'lastmile';

export default defineConfig({
  environments: {
    // Embedded Postgres and the embedded Temporal server, under .lastmile/.
    dev: {},
    // Embedded as well: CI deploys here on merge and runs the checks against seeded data.
    test: {},
    // Production: URLs come from the environment; nothing secret is written here.
    // For Temporal Cloud add `apiKey: secret('TEMPORAL_API_KEY')` and a namespace.
    prod: {
      warehouse: { urlEnv: 'LASTMILE_PROD_WAREHOUSE_URL', schemas: { marts: 'marts', shop: 'shop' } },
      temporal: { addressEnv: 'TEMPORAL_ADDRESS', namespace: 'default', taskQueue: 'lastmile-prod' },
    },
  },
  promotion: ['dev', 'test', 'prod'],
  // The data every embedded warehouse starts with: the example retailer (docs/seed-data.md).
  seed: './seed/retailer/index.ts',
});
