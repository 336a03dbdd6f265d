/**
 * A parameterized query written out with its values inlined, for the statements that cannot take parameters:
 * `COPY (<query>) TO STDOUT` (the csv export) and SQL people paste into psql (check reproductions).
 *
 * Everywhere else lastmile sends values as parameters. COPY is a utility statement: Postgres does not accept `$n`
 * in it, so a query with parameters is exported by writing each value into the text as a quoted literal. The value
 * is first converted exactly as the `pg` driver converts a parameter (`prepareValue`: Dates in the driver's
 * configured form, arrays as array literals, objects as JSON…), then quoted as a string constant. A string constant
 * has the type `unknown` until its context decides, as an untyped parameter does, so `where amount > $1` and
 * `where amount > '10'` resolve the same way.
 */
import { quoteLiteral } from './quote.js';

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

/**
 * Replaces the `$1`, `$2`… placeholders of `text` with `quoteLiteral(values[n - 1])`. Placeholders are recognised
 * only where Postgres' lexer sees them: not inside string constants (`'…'`, `E'…'` with backslash escapes), quoted
 * identifiers, dollar-quoted strings (`$tag$…$tag$`), `--` and (nested) `/* *\/` comments, nor as part of an
 * identifier (`a$1`). A placeholder without a value is an error, as it is for the driver.
 */
export function inlineParameters(text: string, values: readonly unknown[]): string {
  if (values.length === 0) return text;
  let out = '';
  let i = 0;
  const n = text.length;
  const copyUntil = (end: number): void => {
    out += text.slice(i, end);
    i = end;
  };
  while (i < n) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "'") {
      const escapes = i > 0 && /[Ee]/.test(text[i - 1]) && (i < 2 || !IDENT_CHAR.test(text[i - 2]));
      copyUntil(endOfQuoted(text, i, "'", escapes));
    } else if (c === '"') {
      copyUntil(endOfQuoted(text, i, '"', false));
    } else if (c === '-' && next === '-') {
      const newline = text.indexOf('\n', i);
      copyUntil(newline === -1 ? n : newline + 1);
    } else if (c === '/' && next === '*') {
      copyUntil(endOfBlockComment(text, i));
    } else if (c === '$' && (i === 0 || !IDENT_CHAR.test(text[i - 1]))) {
      const param = /^\$(\d+)/.exec(text.slice(i, i + 12));
      if (param) {
        const index = Number(param[1]);
        if (index < 1 || index > values.length) {
          throw new Error(`The query refers to $${param[1]} but ${values.length} parameter value(s) were given.`);
        }
        out += quoteLiteral(values[index - 1]);
        i += param[0].length;
        continue;
      }
      const tag = DOLLAR_TAG.exec(text.slice(i, i + 70));
      if (tag) {
        const close = text.indexOf(tag[0], i + tag[0].length);
        copyUntil(close === -1 ? n : close + tag[0].length);
      } else {
        copyUntil(i + 1);
      }
    } else {
      copyUntil(i + 1);
    }
  }
  return out;
}

/** Index just past the quoted token starting at `start` (`''` / `""` doubled quotes; `\x` escapes in E strings). */
function endOfQuoted(text: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i += 1;
    }
  }
  return text.length;
}

function endOfBlockComment(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text[i] === '/' && text[i + 1] === '*') {
      depth += 1;
      i += 2;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return text.length;
}
