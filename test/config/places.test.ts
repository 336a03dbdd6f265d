import { describe, expect, it } from 'vitest';
import { placeOf } from '../../src/config/places.js';

const env = (name: string, production: boolean, destinations: Record<string, string> = {}) => ({ name, production, destinations });

describe("an environment's places", () => {
  it('production writes where the product says; any other environment into its own folder under .lastmile/<env>/', () => {
    expect(placeOf(env('prod', true), './exchange/partner-invoices/csv')).toEqual({ to: './exchange/partner-invoices/csv', how: 'declared', standIn: false });
    expect(placeOf(env('dev', false), './exchange/partner-invoices/csv')).toEqual({ to: './.lastmile/dev/exchange/partner-invoices/csv', how: 'own', standIn: false });
    expect(placeOf(env('test', false), 'exchange/x')).toMatchObject({ to: './.lastmile/test/exchange/x' });
    // nothing a product writes can lead an environment out of its folder
    expect(placeOf(env('dev', false), '../../etc/x')).toMatchObject({ to: './.lastmile/dev/etc/x' });
    expect(placeOf(env('dev', false), '/srv/exchange')).toMatchObject({ to: './.lastmile/dev/srv/exchange' });
  });

  it('a bucket outside production becomes a local stand-in, never the bucket itself', () => {
    expect(placeOf(env('dev', false), 's3://exchange/quality/')).toEqual({ to: './.lastmile/dev/s3/exchange/quality', how: 'own', standIn: true });
    expect(placeOf(env('prod', true), 's3://exchange/quality/')).toMatchObject({ to: 's3://exchange/quality/', how: 'declared' });
  });

  it('destinations map by prefix, the longest first, at path boundaries', () => {
    const test = env('test', false, { 's3://exchange/': 's3://exchange-test/', 's3://exchange/quality/': 's3://quality-test/q/', './exchange': './exchange-test/' });
    expect(placeOf(test, 's3://exchange/quality/pack')).toEqual({ to: 's3://quality-test/q/pack', how: 'mapped', standIn: false });
    expect(placeOf(test, 's3://exchange/invoices')).toMatchObject({ to: 's3://exchange-test/invoices', how: 'mapped' });
    expect(placeOf(test, './exchange/partner-invoices/csv')).toMatchObject({ to: './exchange-test/partner-invoices/csv/', how: 'mapped' });
    expect(placeOf(test, 'exchange/a')).toMatchObject({ how: 'mapped' });
    // not a prefix at a boundary: the environment's own folder
    expect(placeOf(test, 's3://exchange2/x')).toMatchObject({ how: 'own', standIn: true });
    expect(placeOf(test, './exchanged/x')).toMatchObject({ how: 'own', to: './.lastmile/test/exchanged/x' });
    // production can be mapped too
    expect(placeOf(env('prod', true, { 'https://metabase.example.com': 'https://bi.internal' }), 'https://metabase.example.com/api')).toMatchObject({
      to: 'https://bi.internal/api',
      how: 'mapped',
    });
  });
});
