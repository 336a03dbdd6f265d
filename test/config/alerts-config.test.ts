import { describe, expect, it } from 'vitest';
import { defineConfig, formatProblems, secret, validateConfig } from '../../src/index.js';
import type { EnvironmentSpec, Problem } from '../../src/index.js';

const SLACK_URL = 'https://hooks.slack.com/services/T0ABCDEF/B0GHIJKL/xoxSuperSecretToken42';

/** Validates a configuration whose `prod` environment is `prod`. */
function validate(prod: unknown) {
  return validateConfig(defineConfig({ environments: { dev: {}, prod: prod as EnvironmentSpec }, promotion: ['dev', 'prod'] }));
}

function problemAt(problems: readonly Problem[], path: string): Problem {
  const problem = problems.find((candidate) => candidate.path === path);
  expect(problem, formatProblems(problems)).toBeDefined();
  return problem!;
}

describe('alerts and monitor in lastmile.config.ts', () => {
  it('fills the defaults: log on, no webhook, monitor every 5m', () => {
    const { config, problems } = validate({});
    expect(problems).toEqual([]);
    expect(config?.environments.prod.alerts).toEqual({ log: true });
    expect(config?.environments.prod.monitor).toEqual({ interval: '5m' });
    expect(config?.environments.dev.alerts).toEqual({ log: true });
  });

  it('refuses a webhook written as a bare URL string without echoing it', () => {
    const { problems } = validate({ alerts: { webhook: SLACK_URL } });
    const problem = problemAt(problems, 'environments.prod.alerts.webhook');
    expect(problem.message).toMatch(/is a bare string/);
    expect(problem.fix).toMatch(/secret\('ALERT_WEBHOOK_URL'\)/);
    expect(JSON.stringify(problems)).not.toContain('SuperSecret');
  });

  it('accepts a webhook by secret reference, with format and timeout defaults', () => {
    const { config, problems } = validate({
      alerts: { webhook: { url: secret('ALERT_WEBHOOK_URL') } },
      monitor: { interval: '90s' },
    });
    expect(problems).toEqual([]);
    expect(config?.environments.prod.alerts).toEqual({ log: true, webhook: { url: { kind: 'secret', env: 'ALERT_WEBHOOK_URL' }, format: 'json', timeout: '10s' } });
    expect(config?.environments.prod.monitor).toEqual({ interval: '90s' });
  });

  it('accepts a literal URL without credentials, the slack format, a timeout and log: false', () => {
    const { config, problems } = validate({
      alerts: { log: false, webhook: { url: 'https://alertmanager.internal.example.com/lastmile', format: 'slack', timeout: '30s' } },
    });
    expect(problems).toEqual([]);
    expect(config?.environments.prod.alerts).toEqual({
      log: false,
      webhook: { url: 'https://alertmanager.internal.example.com/lastmile', format: 'slack', timeout: '30s' },
    });
  });

  it('names the field of a bad format', () => {
    const problem = problemAt(validate({ alerts: { webhook: { url: secret('ALERT_WEBHOOK_URL'), format: 'teams' } } }).problems, 'environments.prod.alerts.webhook.format');
    expect(problem.message).toMatch(/'teams' is not a webhook format/);
    expect(problem.fix).toMatch(/'json'.*'slack'/);
  });

  it('refuses a literal Slack webhook URL, without repeating it', () => {
    const { problems } = validate({ alerts: { webhook: { url: SLACK_URL, format: 'slack' } } });
    const problem = problemAt(problems, 'environments.prod.alerts.webhook.url');
    expect(problem.message).toMatch(/'url' is a Slack incoming-webhook URL written into the config/);
    expect(problem.fix).toMatch(/secret\('ALERT_WEBHOOK_URL'\)/);
    expect(formatProblems(problems)).not.toContain('xoxSuperSecretToken42');
  });

  it('refuses a literal URL with a token in its query string or a password in it', () => {
    const token = problemAt(validate({ alerts: { webhook: { url: 'https://alerts.example.com/hook?token=abc123def' } } }).problems, 'environments.prod.alerts.webhook.url');
    expect(token.message).toMatch(/carries a token in its query string/);
    expect(token.fix).toMatch(/secret\('ALERT_WEBHOOK_URL'\)/);
    const { problems } = validate({ alerts: { webhook: { url: 'https://lastmile:Tr0ub4dor@alerts.example.com/hook' } } });
    expect(problemAt(problems, 'environments.prod.alerts.webhook.url').message).toMatch(/with a password/);
    expect(formatProblems(problems)).not.toContain('Tr0ub4dor');
  });

  it('names the field of a URL that is not http(s), a bad secret name, or a missing url', () => {
    expect(problemAt(validate({ alerts: { webhook: { url: 'alerts.example.com/hook' } } }).problems, 'environments.prod.alerts.webhook.url').message).toMatch(/'url' is not an http\(s\) URL/);
    expect(problemAt(validate({ alerts: { webhook: { url: secret('alert url') } } }).problems, 'environments.prod.alerts.webhook.url.env').message).toMatch(/'alert url' is not an environment variable name/);
    expect(problemAt(validate({ alerts: { webhook: { url: 42 } } }).problems, 'environments.prod.alerts.webhook.url').message).toMatch(/should be secret\('ALERT_WEBHOOK_URL'\) or an http\(s\) URL/);
    expect(problemAt(validate({ alerts: { webhook: {} } }).problems, 'environments.prod.alerts.webhook.url').message).toMatch(/'url' is missing/);
  });

  it('names the field of a bad duration and of typos', () => {
    const { problems } = validate({ monitor: { interval: 'five minutes' }, alerts: { log: 'yes', webhook: { url: secret('ALERT_WEBHOOK_URL'), timeout: '10' } } });
    expect(problemAt(problems, 'environments.prod.monitor.interval').message).toMatch(/'five minutes' is not a duration/);
    expect(problemAt(problems, 'environments.prod.monitor.interval').fix).toMatch(/e\.g\. '26h'/);
    expect(problemAt(problems, 'environments.prod.alerts.webhook.timeout').message).toMatch(/'10' is not a duration/);
    expect(problemAt(problems, 'environments.prod.alerts.log').message).toMatch(/'log' should be a boolean/);

    const typos = validate({ alert: {}, monitor: { intervall: '5m' } }).problems;
    expect(problemAt(typos, 'environments.prod.alert').fix).toMatch(/Did you mean 'alerts'/);
    expect(problemAt(typos, 'environments.prod.monitor.intervall').fix).toMatch(/Did you mean 'interval'/);
  });
});
