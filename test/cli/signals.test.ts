import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('untilSignal', () => {
  it('receives a Ctrl-C that arrived just before it took over the signal from other listeners', () => {
    for (let i = 0; i < 5; i++) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/signal-race.ts')], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      // the signal reached lastmile alone, and the foreign listener is back for a second Ctrl-C
      expect(out.trim()).toBe('SIGINT foreign=0 restored=1');
    }
  }, 60_000);
});
