/**
 * Text from product modules (names, descriptions, doc comments, SQL) goes into HTML and Markdown only through these
 * helpers: a description holding `<script>` shows as text, never runs.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an HTML element's content or a quoted attribute value. */
export function html(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** A value for a `<script type="application/json">` block: `<` written as `\u003c`, so `</script>` cannot close it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A fragment id (`#col-supplier_id`) safe in an attribute and a URL: letters, digits, `_` and `-`; others as `-xx-`. */
export function anchorId(...parts: readonly string[]): string {
  return parts.map((part) => part.replace(/[^A-Za-z0-9_-]/g, (c) => `-${c.codePointAt(0)!.toString(16)}-`)).join('-');
}

/**
 * A product's page file name: product names are snake_case already (validated), but the page name is encoded anyway
 * so a file name can never leave `products/`.
 */
export function pageName(product: string): string {
  return `${anchorId(product)}.html`;
}

/** Text for Markdown prose and table cells: HTML-special characters as entities, `|` and Markdown markers escaped. */
export function markdown(text: string): string {
  return text
    .replace(/[&<>]/g, (c) => HTML_ESCAPES[c]!)
    .replace(/([\\`*_[\]|#])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

/** An inline code span holding `text` on one line (a fence longer than any run of backticks inside; `|` escaped for tables). */
export function markdownCode(text: string): string {
  const oneLine = text.replace(/\s*\r?\n\s*/g, ' ').trim();
  const longest = Math.max(0, ...[...oneLine.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${oneLine.replace(/\|/g, '\\|')}${pad}${fence}`;
}
