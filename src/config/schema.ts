import { z } from 'zod';
import { expects, say, shown, strict } from '../product/issues.js';
import { SQL_NAME } from '../product/names.js';
import { ENV_VAR_NAME } from '../product/secret.js';
import { secretRef } from '../product/schemas/fields.js';

/** Environment names appear in workflow ids and task queues: lower case, digits, `-` and `_`. */
export const ENV_NAME = /^[a-z][a-z0-9_-]*$/;

const envVarName = (example: string, holds: string) =>
  z.string(expects(`'${example}'`)).superRefine((value, ctx) => {
    if (ENV_VAR_NAME.test(value)) return;
    const looksLikeValue = /[:/@.]/.test(value);
    ctx.addIssue({
      code: 'custom',
      message: looksLikeValue
        ? say(`'{field}' holds the NAME of an environment variable, not ${holds} itself`, `set {field}: '${example}' and put ${holds} in that variable where lastmile runs`)
        : say(`${shown(value)} is not an environment variable name`, `use upper-case letters, digits and underscores, e.g. '${example}'`),
    });
  });

const sqlName = (hint: string) =>
  z.string(expects(hint)).regex(SQL_NAME, { error: (issue) => say(`${shown(issue.input)} is not a plain schema name`, 'use letters, digits and underscores, starting with a letter') });

const warehouse = strict(
  {
    urlEnv: envVarName('LASTMILE_PROD_WAREHOUSE_URL', 'the warehouse URL').optional(),
    schemas: z.record(sqlName("a logical schema name such as 'marts'"), sqlName("a physical schema name such as 'marts_test'")).default({}),
  },
  "{ urlEnv: 'LASTMILE_PROD_WAREHOUSE_URL', schemas: { marts: 'marts' } }",
);

const temporal = strict(
  {
    addressEnv: envVarName('TEMPORAL_ADDRESS', 'the Temporal address').optional(),
    namespace: z.string(expects("'default'")).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: say('the namespace is not a valid Temporal namespace name', "use letters, digits, '.', '_' and '-'") }).optional(),
    taskQueue: z.string(expects("'lastmile-prod'")).regex(/^\S+$/, { error: say('the task queue name is empty or has spaces', "use a name such as 'lastmile-prod'") }).optional(),
    apiKey: secretRef.optional(),
  },
  "{ addressEnv: 'TEMPORAL_ADDRESS', namespace: 'lastmile-prod' }",
);

const environment = strict(
  {
    warehouse: warehouse.default({ schemas: {} }),
    temporal: temporal.default({}),
  },
  "{ warehouse: { urlEnv: 'LASTMILE_PROD_WAREHOUSE_URL' }, temporal: { addressEnv: 'TEMPORAL_ADDRESS' } }",
);

const envName = z.string().regex(ENV_NAME, {
  error: (issue) => say(`the environment name ${shown(issue.input)} is not valid`, "use lower-case letters, digits, '-' and '_', e.g. 'prod'"),
});

export const configSchema = strict({
  environments: z
    .record(envName, environment, expects('{ dev: {}, test: {}, prod: { ... } }'))
    .refine((value) => Object.keys(value).length > 0, { error: say('no environments are declared', 'declare at least one, e.g. environments: { dev: {} }') }),
  promotion: z.array(z.string(), expects("the environments in promotion order, e.g. ['dev', 'test', 'prod']")).min(1, {
    error: say('the promotion order is empty', "list the environments in promotion order, e.g. ['dev', 'test', 'prod']"),
  }),
});
