import { renderSource, tableName, type Source } from '../product/source.js';

/**
 * A query's text with what does not change its meaning taken out: comments (`-- …`, `/* … *\/`) and the amount of
 * white space between tokens. Quoted text (`'…'`, `"…"`, dollar quotes) is kept exactly, so a reformatted query
 * normalises to the same text and a changed literal does not.
 */
export function normalizeSql(text: string): string {
  let out = '';
  let pendingSpace = false;
  const emit = (chunk: string) => {
    if (pendingSpace && out.length > 0 && needsSpace(out[out.length - 1]!, chunk[0]!)) out += ' ';
    pendingSpace = false;
    out += chunk;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
      pendingSpace = true;
      continue;
    }
    if (c === '/' && next === '*') {
      // block comments nest in PostgreSQL
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') (depth += 1), (i += 2);
        else if (text[i] === '*' && text[i + 1] === '/') (depth -= 1), (i += 2);
        else i += 1;
      }
      pendingSpace = true;
      continue;
    }
    if (/\s/.test(c)) {
      pendingSpace = true;
      i += 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < text.length) {
        if (text[j] === c && text[j + 1] === c) j += 2;
        else if (text[j] === c) break;
        else j += 1;
      }
      emit(text.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    const dollar = c === '$' ? /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i)) : null;
    if (dollar) {
      const tag = dollar[0];
      const end = text.indexOf(tag, i + tag.length);
      const stop = end < 0 ? text.length : end + tag.length;
      emit(text.slice(i, stop));
      i = stop;
      continue;
    }
    let j = i + 1;
    if (/[A-Za-z0-9_]/.test(c)) while (j < text.length && /[A-Za-z0-9_$]/.test(text[j]!)) j += 1;
    emit(text.slice(i, j));
    i = j;
  }
  return out.replace(/;+$/, '');
}

/** A space is kept only where dropping it would join two words (`select a` vs `selecta`). */
function needsSpace(before: string, after: string): boolean {
  return /[A-Za-z0-9_$]/.test(before) && /[A-Za-z0-9_$]/.test(after);
}

/** A source as normalised text, its tables written by their logical names: the same for a reformatted query. */
export function normalizedSource(source: Source): string {
  return normalizeSql(renderSource(source, tableName));
}
