import { describe, expect, it } from 'vitest';
import { durationMs, parseDuration } from '../../src/time/duration.js';
import { quoteIdent, quoteQualified } from '../../src/warehouse/quote.js';
import { findLiteralSecrets } from '../../src/product/secret-scan.js';
import { isTimeZone, suggestTimeZone } from '../../src/time/timezone.js';
import { resolveSecret, secret, sql, table, resolveSql } from '../../src/index.js';

describe('durations', () => {
  it('parses one number and one unit', () => {
    expect(parseDuration('26h')).toBe(26 * 3_600_000);
    expect(parseDuration('28d')).toBe(28 * 86_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(durationMs('2w')).toBe(14 * 86_400_000);
  });
  it('rejects everything else', () => {
    for (const text of ['26', 'h', '26 hours', '0h', '-1d', '1h30m', '']) expect(parseDuration(text), text).toBeUndefined();
    expect(() => durationMs('soon')).toThrow(/'soon' is not a duration/);
  });
});

describe('time zones', () => {
  it('knows IANA names and suggests near misses', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Europe/Berln')).toBe(false);
    expect(isTimeZone('CEST+1')).toBe(false);
    expect(suggestTimeZone('Europe/Berln')).toBe('Europe/Berlin');
    expect(suggestTimeZone('berlin')).toBe('Europe/Berlin');
  });
});

describe('identifier quoting', () => {
  it('quotes and escapes', () => {
    expect(quoteIdent('week')).toBe('"week"');
    expect(quoteIdent('we"ek')).toBe('"we""ek"');
    expect(quoteIdent('Robert"); drop table x; --')).toBe('"Robert""); drop table x; --"');
    expect(quoteQualified('marts', 'returns_weekly')).toBe('"marts"."returns_weekly"');
    expect(() => quoteIdent('')).toThrow(/non-empty/);
    expect(() => quoteIdent('a\u0000b')).toThrow(/NUL/);
  });
});

describe('sources', () => {
  it('resolves table placeholders to quoted physical names per environment', () => {
    const source = sql`select * from ${table('marts.returns_weekly')} r join ${table('shop.suppliers')} s using (supplier_id);`;
    expect(resolveSql(source, { marts: 'marts_prod' })).toBe(
      'select * from "marts_prod"."returns_weekly" r join "shop"."suppliers" s using (supplier_id)',
    );
    expect(resolveSql(table('marts.lead_scores'), { marts: 'm' })).toBe('select * from "m"."lead_scores"');
  });
});

describe('secrets', () => {
  it('are references to environment variables', () => {
    expect(secret('CRM_TOKEN')).toEqual({ kind: 'secret', env: 'CRM_TOKEN' });
    expect(resolveSecret(secret('CRM_TOKEN'), 'product lead_scores', { CRM_TOKEN: 'abc' })).toBe('abc');
    expect(() => resolveSecret(secret('CRM_TOKEN'), 'product lead_scores', {})).toThrow(
      /CRM_TOKEN is not set \(needed by product lead_scores\)/,
    );
  });

  it('are found when written literally, anywhere, without reporting the value', () => {
    const found = findLiteralSecrets({
      auth: secret('OK'),
      nested: [{ apiKey: 'k-123' }, { dbPassword: 'p' }, { clientSecret: '' }],
      url: 'postgres://app:s3cret@db.example.com:5432/shop',
      mongo: 'see mongodb+srv://:pw@cluster0',
      safe: 'postgres://app@db.example.com/shop',
      note: 'https://example.com/a:b@c',
      tokenEnv: 'CRM_TOKEN_NAME_IS_FINE?',
    });
    expect(found.map((entry) => [entry.path.join('.'), entry.reason])).toEqual([
      ['nested.0.apiKey', 'secret-field'],
      ['nested.1.dbPassword', 'secret-field'],
      ['url', 'url-with-password'],
      ['mongo', 'url-with-password'],
    ]);
    expect(JSON.stringify(found)).not.toMatch(/k-123|s3cret/);
  });
});
