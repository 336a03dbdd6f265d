/** CPU time of a process tree from /proc (Linux only; undefined elsewhere). Used to split CPU between Postgres and Node. */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

function stat(pid: number): { ppid: number; ticks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name is in parentheses and may hold spaces: fields start after the last ')'
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid = field 4, utime..cstime = fields 14..17
    const ppid = Number(fields[1]);
    const t = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    return { ppid, ticks: t };
  } catch {
    return undefined;
  }
}

/** ms of CPU used by `pid` and its live children, plus children already reaped (cutime/cstime). */
export function treeCpuMs(pid: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const root = stat(pid);
  if (!root) return undefined;
  let total = root.ticks;
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child) || child === pid) continue;
    const s = stat(child);
    if (s && s.ppid === pid) total += s.ticks;
  }
  return (total * 1000) / clockTicks();
}
