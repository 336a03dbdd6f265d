/**
 * The prompt of `lastmile sql` where psql is not installed: reads statements (up to a `;` at the end of a line),
 * runs each and prints its rows as a table; an error is printed and the prompt goes on. `\q`, `exit` or Ctrl-D
 * leave; Ctrl-C drops the statement being typed.
 */
import readline from 'node:readline';
import type pg from 'pg';
import { formatResult, runStatements } from './sql-statements.js';

export async function sqlPrompt(client: pg.ClientBase, database: string, io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; error: (line: string) => void }): Promise<void> {
  const interactive = (io.input as { isTTY?: boolean }).isTTY === true;
  const rl = readline.createInterface({ input: io.input, output: io.output, terminal: interactive });
  const prompt = (continued: boolean): void => {
    if (!interactive) return;
    rl.setPrompt(`${database}${continued ? '->' : '=>'} `);
    rl.prompt();
  };
  let buffer = '';
  let closed = false;
  let queue = Promise.resolve();
  const write = (text: string): void => void io.output.write(`${text}\n`);
  if (interactive) write(`lastmile sql — ${database} (psql is not installed: the built-in prompt). End statements with ;  — \\q to quit.`);
  prompt(false);
  await new Promise<void>((resolve) => {
    rl.on('SIGINT', () => {
      buffer = '';
      write('');
      prompt(false);
    });
    rl.on('line', (line) => {
      const trimmed = line.trim();
      if (buffer === '' && (trimmed === '\\q' || trimmed === 'exit' || trimmed === 'quit')) {
        rl.close();
        return;
      }
      buffer += `${line}\n`;
      if (!/;\s*$/.test(trimmed)) {
        prompt(buffer.trim() !== '');
        return;
      }
      const text = buffer;
      buffer = '';
      rl.pause();
      queue = queue.then(async () => {
        try {
          for (const result of await runStatements(client, text)) write(formatResult(result));
        } catch (error) {
          io.error(`ERROR: ${error instanceof Error ? error.message : String(error)}`);
        }
        if (closed) return;
        rl.resume();
        prompt(false);
      });
    });
    rl.on('close', () => {
      closed = true;
      void queue.then(() => {
        if (buffer.trim() !== '') io.error('(the last statement had no ; at its end and was not run)');
        resolve();
      });
    });
  });
}
