/** Terminal output: tables, JSON, and one-paragraph errors. */

export interface Output {
  json: boolean;
  debug: boolean;
  /** progress and notes for people (stderr, so stdout stays parseable) */
  note(line: string): void;
  /** the command's result (stdout) */
  print(line: string): void;
  printJson(value: unknown): void;
}

export function createOutput(options: { json: boolean; debug: boolean }): Output {
  return {
    ...options,
    note: (line) => process.stderr.write(`${line}\n`),
    print: (line) => process.stdout.write(`${line}\n`),
    printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

/**
 * A plain text table: a header row, a rule, and the rows, columns padded to fit. With `maxWidth` (a terminal's
 * columns) no line is longer: the widest columns are narrowed and their long cells cut with '…', so a live table
 * never wraps (a wrapped line would break its redraw).
 */
export function table(header: string[], rows: (string | number | undefined | null)[][], maxWidth?: number): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === undefined || c === null ? '' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  if (maxWidth !== undefined) {
    const total = (): number => widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.length - 1);
    while (total() > maxWidth) {
      const widest = widths.indexOf(Math.max(...widths));
      if (widths[widest]! <= 8) break;
      widths[widest] = Math.max(8, widths[widest]! - (total() - maxWidth));
    }
  }
  const fit = (c: string, w: number): string => (c.length > w ? `${c.slice(0, Math.max(0, w - 1))}…` : c.padEnd(w));
  const line = (r: string[]): string => r.map((c, i) => fit(c, widths[i]!)).join('  ').trimEnd();
  return [line(cells[0]), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
