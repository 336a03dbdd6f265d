import { UnavailableError } from '../errors.js';

/** A secret is referenced by the name of the environment variable that holds it, never written down. */
export interface SecretRef {
  readonly kind: 'secret';
  /** Name of the environment variable, e.g. `CRM_TOKEN`. */
  readonly env: string;
}

/** `secret('CRM_TOKEN')` — the value is read from the environment where lastmile runs, at the moment it is needed. */
export function secret<const Name extends string>(env: Name): SecretRef & { readonly env: Name } {
  return { kind: 'secret', env };
}

export function isSecretRef(value: unknown): value is SecretRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'secret' &&
    typeof (value as { env?: unknown }).env === 'string'
  );
}

/** Names of environment variables: upper case letters, digits and underscores. */
export const ENV_VAR_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * Reads a secret from the environment. Throws an error naming the variable (never a value) when it is unset.
 * `usedBy` says who needs it, e.g. `product lead_scores, target crm_sync`.
 */
export function resolveSecret(ref: SecretRef, usedBy?: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[ref.env];
  if (value === undefined || value === '') {
    throw new UnavailableError(
      `The environment variable ${ref.env} is not set${usedBy ? ` (needed by ${usedBy})` : ''}. ` +
        `Set it in the environment where lastmile runs, e.g. export ${ref.env}=... in the shell or your CI secret store.`,
    );
  }
  return value;
}
