/**
 * Shapes of well-known credentials, matched inside any string of a product module or the config. Each names what
 * it found, so a finding can say "a GitHub token" without showing it.
 */

export interface TokenShape {
  /** what it is, in a finding's words: `a GitHub token` */
  readonly what: string;
  readonly pattern: RegExp;
}

export const TOKEN_SHAPES: readonly TokenShape[] = [
  { what: 'a PEM private key', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  { what: 'an AWS access key id', pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/ },
  { what: 'a GitHub token', pattern: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b/ },
  { what: 'a GitHub fine-grained token', pattern: /\bgithub_pat_[A-Za-z0-9_]{22,}\b/ },
  { what: 'a Slack token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { what: 'a Stripe live key', pattern: /\b(?:sk|rk)_live_[A-Za-z0-9]{16,}\b/ },
  { what: 'a HubSpot private app token', pattern: /\bpat-(?:na1|eu1)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i },
  { what: 'a Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/ },
  { what: 'a JSON Web Token', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
  { what: 'a Bearer token', pattern: /\bBearer\s+[A-Za-z0-9\-._~+/]{20,}=*/ },
];

export interface TokenMatch {
  readonly what: string;
  /** where in the text it starts */
  readonly index: number;
  readonly text: string;
}

/** Every known credential shape in `text`, at most one per place (the first shape listed wins). */
export function findTokenShapes(text: string): TokenMatch[] {
  const found: TokenMatch[] = [];
  for (const shape of TOKEN_SHAPES) {
    const global = new RegExp(shape.pattern.source, `${shape.pattern.flags.replace('g', '')}g`);
    for (const match of text.matchAll(global)) {
      const index = match.index;
      const overlaps = found.some((other) => index < other.index + other.text.length && other.index < index + match[0].length);
      if (!overlaps) found.push({ what: shape.what, index, text: match[0] });
    }
  }
  return found.sort((a, b) => a.index - b.index);
}
