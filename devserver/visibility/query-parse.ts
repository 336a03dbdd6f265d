/**
 * Tokenizer and recursive-descent parser for Temporal's visibility "List Filter"
 * language (the SQL-like string given to ListWorkflowExecutions / CountWorkflowExecutions).
 *
 * This module only knows syntax; attribute names, types and value conversion are
 * resolved in `query.ts`. Every malformed input raises `ListFilterError`.
 *
 * Grammar (keywords are case-insensitive, attribute names are case-sensitive):
 *
 *   query     := [ condition ] [ ORDER BY orderTerm { "," orderTerm } ] EOF
 *   condition := andExpr { OR andExpr }
 *   andExpr   := primary { AND primary }
 *   primary   := "(" condition ")" | attr predicate
 *   predicate := cmpOp value
 *              | [NOT] IN "(" value { "," value } ")"
 *              | [NOT] BETWEEN value AND value
 *              | [NOT] STARTS_WITH value
 *              | IS [NOT] NULL
 *   cmpOp     := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="
 *   orderTerm := attr [ ASC | DESC ]
 *   attr      := identifier | `backquoted name`
 *   value     := 'string' | "string" | number | TRUE | FALSE
 *
 * Strings escape their quote either by doubling it ('it''s') or with a backslash
 * ('it\'s'); a backslash escapes any following character literally.
 * Positions in messages are 1-based character columns.
 */

export class ListFilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListFilterError';
  }
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export interface AttrRef {
  name: string;
  /** 0-based offset in the query */
  pos: number;
}

export interface Literal {
  kind: 'string' | 'number' | 'bool';
  /** raw source text, quotes included (used in error messages) */
  text: string;
  /** decoded value: string contents, number text, or 'true' / 'false' */
  value: string;
  pos: number;
}

export type Condition =
  | { kind: 'and'; items: Condition[] }
  | { kind: 'or'; items: Condition[] }
  | { kind: 'compare'; attr: AttrRef; op: CompareOp; value: Literal }
  | { kind: 'in'; attr: AttrRef; negated: boolean; values: Literal[] }
  | { kind: 'between'; attr: AttrRef; negated: boolean; low: Literal; high: Literal }
  | { kind: 'startsWith'; attr: AttrRef; negated: boolean; value: Literal }
  | { kind: 'isNull'; attr: AttrRef; negated: boolean };

export interface OrderTerm {
  attr: AttrRef;
  descending: boolean;
}

export interface ParsedQuery {
  where?: Condition;
  orderBy: OrderTerm[];
}

/** Formats a 0-based offset for messages. */
export function at(pos: number): string {
  return `at position ${pos + 1}`;
}

// ---------------------------------------------------------------------------
// Tokenizer

type TokenKind = 'word' | 'name' | 'string' | 'number' | 'op' | 'punct' | 'eof';

interface Token {
  kind: TokenKind;
  /** raw source text */
  text: string;
  /** decoded text (string contents, backquoted name); equals `text` otherwise */
  value: string;
  pos: number;
}

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const OPERATOR = /!=|<>|<=|>=|=|<|>/y;

function matchAt(re: RegExp, s: string, pos: number): string | undefined {
  re.lastIndex = pos;
  return re.exec(s)?.[0];
}

/** Reads a quoted run starting at `start` (the opening quote). Returns decoded text and end offset. */
function readQuoted(s: string, start: number, what: string): { value: string; end: number } {
  const quote = s[start];
  let value = '';
  let i = start + 1;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      value += s[i + 1];
      i += 2;
    } else if (c === quote && s[i + 1] === quote) {
      value += quote;
      i += 2;
    } else if (c === quote) {
      return { value, end: i + 1 };
    } else {
      value += c;
      i += 1;
    }
  }
  throw new ListFilterError(`unterminated ${what} starting ${at(start)}`);
}

export function tokenize(s: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    const pos = i;
    let m: string | undefined;
    if (c === "'" || c === '"' || c === '`') {
      const isName = c === '`';
      const { value, end } = readQuoted(s, i, isName ? 'backquoted name' : 'string');
      if (isName && value === '') throw new ListFilterError(`empty backquoted name ${at(pos)}`);
      tokens.push({ kind: isName ? 'name' : 'string', text: s.slice(pos, end), value, pos });
      i = end;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c, value: c, pos });
      i += 1;
    } else if ((m = matchAt(OPERATOR, s, i))) {
      const op = m === '<>' ? '!=' : m;
      tokens.push({ kind: 'op', text: m, value: op, pos });
      i += m.length;
    } else if ((m = matchAt(NUMBER, s, i))) {
      tokens.push({ kind: 'number', text: m, value: m, pos });
      i += m.length;
    } else if ((m = matchAt(WORD, s, i))) {
      tokens.push({ kind: 'word', text: m, value: m, pos });
      i += m.length;
    } else {
      throw new ListFilterError(`unexpected character ${JSON.stringify(c)} ${at(pos)}`);
    }
  }
  tokens.push({ kind: 'eof', text: '', value: '', pos: s.length });
  return tokens;
}

// ---------------------------------------------------------------------------
// Parser

/** Words that can never be a bare attribute name (backquote them if needed). */
const RESERVED = new Set(['AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'IS', 'NULL', 'STARTS_WITH']);
/** Parenthesis nesting limit, so hostile input cannot exhaust the stack. */
const MAX_DEPTH = 64;

function describe(t: Token): string {
  return t.kind === 'eof' ? 'end of query' : JSON.stringify(t.text);
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i += 1;
    return t;
  }

  private isWord(t: Token, word: string): boolean {
    return t.kind === 'word' && t.text.toUpperCase() === word;
  }

  private acceptWord(word: string): boolean {
    if (!this.isWord(this.peek(), word)) return false;
    this.i += 1;
    return true;
  }

  private expectWord(word: string, after: string): void {
    const t = this.peek();
    if (!this.acceptWord(word)) {
      throw new ListFilterError(`expected ${word} after "${after}" ${at(t.pos)}, found ${describe(t)}`);
    }
  }

  private expectPunct(p: string, after: string): void {
    const t = this.peek();
    if (t.kind !== 'punct' || t.text !== p) {
      throw new ListFilterError(`expected "${p}" after ${after} ${at(t.pos)}, found ${describe(t)}`);
    }
    this.i += 1;
  }

  private atOrderBy(): boolean {
    return this.isWord(this.peek(), 'ORDER') && this.isWord(this.peek(1), 'BY');
  }

  parseQuery(): ParsedQuery {
    let where: Condition | undefined;
    if (this.peek().kind !== 'eof' && !this.atOrderBy()) where = this.parseOr();
    const orderBy: OrderTerm[] = [];
    if (this.atOrderBy()) {
      this.i += 2;
      do {
        const attr = this.parseAttr('ORDER BY');
        const descending = this.acceptWord('DESC');
        if (!descending) this.acceptWord('ASC');
        orderBy.push({ attr, descending });
      } while (this.acceptPunct(','));
    }
    const t = this.peek();
    if (t.kind !== 'eof') {
      const expected = orderBy.length ? '"," or end of query' : 'AND, OR or ORDER BY';
      throw new ListFilterError(`expected ${expected} ${at(t.pos)}, found ${describe(t)}`);
    }
    return { where, orderBy };
  }

  private acceptPunct(p: string): boolean {
    const t = this.peek();
    if (t.kind !== 'punct' || t.text !== p) return false;
    this.i += 1;
    return true;
  }

  private parseOr(): Condition {
    const items = [this.parseAnd()];
    while (this.acceptWord('OR')) items.push(this.parseAnd());
    return items.length === 1 ? items[0] : { kind: 'or', items };
  }

  private parseAnd(): Condition {
    const items = [this.parsePrimary()];
    while (this.acceptWord('AND')) items.push(this.parsePrimary());
    return items.length === 1 ? items[0] : { kind: 'and', items };
  }

  private parsePrimary(): Condition {
    const open = this.peek();
    if (!this.acceptPunct('(')) return this.parsePredicate(this.parseAttr());
    if (++this.depth > MAX_DEPTH) {
      throw new ListFilterError(`parentheses nested more than ${MAX_DEPTH} deep ${at(open.pos)}`);
    }
    const inner = this.parseOr();
    const close = this.peek();
    if (!this.acceptPunct(')')) {
      throw new ListFilterError(
        `expected ")" to close "(" ${at(open.pos)}; found ${describe(close)} ${at(close.pos)}`,
      );
    }
    this.depth -= 1;
    return inner;
  }

  private parseAttr(after?: string): AttrRef {
    const t = this.peek();
    const ok = t.kind === 'name' || (t.kind === 'word' && !RESERVED.has(t.text.toUpperCase()));
    if (!ok) {
      const where = after ? ` after ${after}` : '';
      throw new ListFilterError(`expected a search attribute name${where} ${at(t.pos)}, found ${describe(t)}`);
    }
    this.i += 1;
    return { name: t.value, pos: t.pos };
  }

  private parsePredicate(attr: AttrRef): Condition {
    const t = this.next();
    if (t.kind === 'op') return { kind: 'compare', attr, op: t.value as CompareOp, value: this.parseValue(t.text) };
    const word = t.kind === 'word' ? t.text.toUpperCase() : '';
    if (word === 'IS') {
      const negated = this.acceptWord('NOT');
      this.expectWord('NULL', negated ? 'IS NOT' : 'IS');
      return { kind: 'isNull', attr, negated };
    }
    const negated = word === 'NOT';
    const opTok = negated ? this.next() : t;
    const op = opTok.kind === 'word' ? opTok.text.toUpperCase() : '';
    const opName = negated ? `NOT ${op}` : op;
    if (op === 'IN') {
      this.expectPunct('(', opName);
      const values = [this.parseValue('(')];
      while (this.acceptPunct(',')) values.push(this.parseValue(','));
      this.expectPunct(')', 'the IN list');
      return { kind: 'in', attr, negated, values };
    }
    if (op === 'BETWEEN') {
      const low = this.parseValue(opName);
      this.expectWord('AND', `${opName} ${low.text}`);
      return { kind: 'between', attr, negated, low, high: this.parseValue('AND') };
    }
    if (op === 'STARTS_WITH') return { kind: 'startsWith', attr, negated, value: this.parseValue(opName) };
    const bad = negated ? opTok : t;
    const expected = negated ? 'IN, BETWEEN or STARTS_WITH after "NOT"' : `an operator after "${attr.name}"`;
    throw new ListFilterError(`expected ${expected} ${at(bad.pos)}, found ${describe(bad)}`);
  }

  private parseValue(after: string): Literal {
    const t = this.peek();
    if (t.kind === 'string' || t.kind === 'number') {
      this.i += 1;
      return { kind: t.kind, text: t.text, value: t.value, pos: t.pos };
    }
    if (this.isWord(t, 'TRUE') || this.isWord(t, 'FALSE')) {
      this.i += 1;
      return { kind: 'bool', text: t.text, value: t.text.toLowerCase(), pos: t.pos };
    }
    throw new ListFilterError(`expected a value after "${after}" ${at(t.pos)}, found ${describe(t)}`);
  }
}

/** Parses a list filter into an AST. Throws ListFilterError on any syntax error. */
export function parseQuery(query: string): ParsedQuery {
  return new Parser(tokenize(query)).parseQuery();
}
