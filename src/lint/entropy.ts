/** How random a string looks, for telling a real credential from a name or a sentence under a secret-looking key. */

/** Shannon entropy of `text` in bits per character (0 for one repeated character; log2 of the alphabet at most). */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  const length = [...text].length;
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Shortest value the entropy test looks at: shorter ones are names, flags, modes. */
export const MIN_SECRET_LENGTH = 16;
/** Bits per character above which a value of that length looks random (a 16-character word scores about 3). */
export const MIN_SECRET_ENTROPY = 3.5;

/**
 * True when `value` looks like a generated credential rather than a word, a name or prose: long enough, no spaces,
 * not made of plain words (`oauth2-client-credentials`), and high in entropy.
 */
export function looksRandom(value: string): boolean {
  if (value.length < MIN_SECRET_LENGTH || /\s/.test(value)) return false;
  const segments = value.split(/[-_.:/]+/).filter((segment) => segment.length > 0);
  const wordLike = segments.every((segment) => /^(?:[A-Za-z][a-z]*|[A-Z]+)[0-9]{0,2}$/.test(segment));
  if (wordLike) return false;
  return shannonEntropy(value) >= MIN_SECRET_ENTROPY;
}

