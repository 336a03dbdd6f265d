import path from 'node:path';
import { z } from 'zod';
import { expects, say, shown, strict } from '../product/issues.js';
import { SQL_NAME } from '../product/names.js';
import { ENV_VAR_NAME } from '../product/secret.js';
import { isSecretFieldName } from '../product/secret-scan.js';
import { duration, secretRef } from '../product/schemas/fields.js';

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

/** Defaults of an environment's alerting and monitoring. */
export const ALERT_WEBHOOK_TIMEOUT = '10s';
export const MONITOR_INTERVAL = '5m';

const USE_WEBHOOK_SECRET = "write url: secret('ALERT_WEBHOOK_URL'), set ALERT_WEBHOOK_URL where lastmile runs";
/** Query parameters that carry a credential in webhook URLs besides the names secret scanning knows (Azure `code`, `sig`). */
const TOKEN_PARAMS = new Set(['key', 'sig', 'signature', 'code']);

/** A webhook URL written in the config: an http(s) URL without a token in it. The value is never echoed. */
const literalWebhookUrl = z.string().superRefine((value, ctx) => {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  const problem = (what: string, fix: string) => ctx.addIssue({ code: 'custom', message: say(what, fix) });
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    problem(`'{field}' is not an http(s) URL`, `${USE_WEBHOOK_SECRET} to the receiver's full URL, e.g. https://alerts.example.com/lastmile`);
  } else if (/(^|\.)hooks\.slack(-gov)?\.com$/i.test(url.hostname)) {
    problem(
      `'{field}' is a Slack incoming-webhook URL written into the config; its path is the credential that lets anyone post to the channel`,
      `${USE_WEBHOOK_SECRET} to the Slack URL, add format: 'slack', and rotate the webhook in Slack since it is in git now`,
    );
  } else if ([...url.searchParams.keys()].some((name) => isSecretFieldName(name) || TOKEN_PARAMS.has(name.toLowerCase()))) {
    problem(`'{field}' carries a token in its query string; credentials must never be in git`, `${USE_WEBHOOK_SECRET} to the whole URL, and rotate the token`);
  }
});

const webhookUrl = z.union([secretRef, literalWebhookUrl], {
  error: (issue) =>
    issue.code === 'invalid_union' || issue.code === 'invalid_type'
      ? say(issue.input === undefined ? `'{field}' is missing` : `'{field}' should be secret('ALERT_WEBHOOK_URL') or an http(s) URL`, USE_WEBHOOK_SECRET)
      : undefined,
});

const alertWebhook = strict(
  {
    url: webhookUrl,
    format: z.enum(['json', 'slack'], { error: (issue) => say(`${shown(issue.input)} is not a webhook format`, "use format: 'json' (lastmile's alert event) or 'slack' (a Slack incoming webhook)") }).default('json'),
    timeout: duration.default(ALERT_WEBHOOK_TIMEOUT),
  },
  "{ url: secret('ALERT_WEBHOOK_URL'), format: 'slack' }",
);

const alerts = strict(
  {
    log: z.boolean(expects('true or false')).default(true),
    // A bare string here is usually the URL itself, token included: refuse it without echoing it.
    webhook: z
      .custom<unknown>((value) => typeof value !== 'string', {
        error: () => say(`'{field}' is a bare string`, `write webhook: { url: secret('ALERT_WEBHOOK_URL') }; the URL holds a token, so keep it in an environment variable`),
      })
      .pipe(alertWebhook)
      .optional(),
  },
  "{ webhook: { url: secret('ALERT_WEBHOOK_URL'), format: 'slack' } }",
);

/** Default of how long one POST of a lineage event may take. */
export const LINEAGE_TIMEOUT = '10s';
/** Characters Marquez accepts in a namespace (letters, digits, `_ - : / .`), at most 1024. */
const LINEAGE_NAMESPACE = /^[A-Za-z0-9_\-:/.]{1,1024}$/;
const USE_API_KEY = "keep the token in an environment variable: apiKey: secret('LINEAGE_API_KEY')";

/** The base URL of an OpenLineage endpoint: http(s), no credentials or tokens in it. The value is never echoed. */
const lineageUrl = z.string(expects("'http://marquez.internal:5000'")).superRefine((value, ctx) => {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  const problem = (what: string, fix: string) => ctx.addIssue({ code: 'custom', message: say(what, fix) });
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    problem(`'{field}' is not an http(s) URL`, "write the base URL of the OpenLineage endpoint, e.g. url: 'http://marquez.internal:5000' (events go to <url>/api/v1/lineage)");
  } else if (url.username !== '' || url.password !== '') {
    problem(`'{field}' holds credentials in the URL`, `remove them from the URL and ${USE_API_KEY}`);
  } else if ([...url.searchParams.keys()].some((name) => isSecretFieldName(name) || TOKEN_PARAMS.has(name.toLowerCase()))) {
    problem(`'{field}' carries a token in its query string; credentials must never be in git`, `remove it and ${USE_API_KEY}`);
  } else if (/\/api\/v1\/lineage\/?$/.test(url.pathname)) {
    problem(`'{field}' ends with /api/v1/lineage, which lastmile appends itself`, `write the base URL, e.g. url: '${url.origin}'; a receiver at another path takes endpoint: '...'`);
  }
});

const lineage = strict(
  {
    url: lineageUrl.optional(),
    endpoint: z
      .string(expects("'api/v1/lineage'"))
      .regex(/^\/?[A-Za-z0-9._~\-/]+$/, { error: say(`'{field}' is not a URL path`, "write the path under url, e.g. endpoint: 'api/v1/lineage'") })
      .optional(),
    namespace: z
      .string(expects("'lastmile/prod'"))
      .regex(LINEAGE_NAMESPACE, { error: (issue) => say(`${shown(issue.input)} is not a valid OpenLineage namespace`, "use letters, digits, '_', '-', ':', '/' and '.', e.g. namespace: 'lastmile/prod'") })
      .optional(),
    apiKey: secretRef.optional(),
    timeout: duration.optional(),
    enabled: z.boolean(expects('true or false')).optional(),
  },
  "{ url: 'http://marquez.internal:5000', apiKey: secret('LINEAGE_API_KEY') }",
);

const monitor = strict({ interval: duration.default(MONITOR_INTERVAL) }, `{ interval: '${MONITOR_INTERVAL}' }`);

/** A place: a folder relative to the project root, an s3:// bucket URL, or an http(s) URL (a BI tool). */
const place = (hint: string) =>
  z.string(expects(hint)).refine((value) => value.trim() !== '' && !/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value), {
    error: (issue) =>
      typeof issue.input === 'string' && issue.input.trim() !== ''
        ? say(`'{field}' holds credentials in the URL`, "name the place without user or password; credentials come from secret('...') on the target")
        : say(`'{field}' is empty`, "write a folder such as './exchange-test/', a bucket URL such as 's3://exchange-test/', or an http(s) URL"),
  });

const environment = strict(
  {
    warehouse: warehouse.default({ schemas: {} }),
    destinations: z.record(place("a place products declare, e.g. 's3://exchange/'"), place("this environment's place, e.g. 's3://exchange-test/'")).default({}),
    sharing: strict({ salt: secretRef.optional() }, "{ salt: secret('SHARE_SALT') }").optional(),
    temporal: temporal.default({}),
    alerts: alerts.default({ log: true }),
    monitor: monitor.default({ interval: MONITOR_INTERVAL }),
    lineage: lineage.optional(),
  },
  "{ warehouse: { urlEnv: 'LASTMILE_PROD_WAREHOUSE_URL' }, temporal: { addressEnv: 'TEMPORAL_ADDRESS' } }",
);

const envName = z.string().regex(ENV_NAME, {
  error: (issue) => say(`the environment name ${shown(issue.input)} is not valid`, "use lower-case letters, digits, '-' and '_', e.g. 'prod'"),
});

/** The seed module: a path relative to the project root (the loader checks the file and its default export). */
const seedModule = z
  .string(expects("'./seed/retailer/index.ts'"))
  .refine((value) => value.trim() !== '', { error: say("'{field}' is empty", "name the seed module relative to the project root, e.g. seed: './seed/retailer/index.ts', or remove seed") })
  .refine((value) => !path.isAbsolute(value), {
    error: (issue) => say(`${shown(issue.input)} is an absolute path`, "write it relative to the project root (next to lastmile.config.ts), e.g. seed: './seed/retailer/index.ts'"),
  });

export const configSchema = strict({
  environments: z
    .record(envName, environment, expects('{ dev: {}, test: {}, prod: { ... } }'))
    .refine((value) => Object.keys(value).length > 0, { error: say('no environments are declared', 'declare at least one, e.g. environments: { dev: {} }') }),
  promotion: z.array(z.string(), expects("the environments in promotion order, e.g. ['dev', 'test', 'prod']")).min(1, {
    error: say('the promotion order is empty', "list the environments in promotion order, e.g. ['dev', 'test', 'prod']"),
  }),
  seed: seedModule.optional(),
  lineage: lineage.optional(),
});
