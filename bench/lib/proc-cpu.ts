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

/** ms of CPU the whole machine spent busy (all cores, from /proc/stat), or undefined off Linux. */
export function machineBusyMs(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    // cpu user nice system idle iowait irq softirq steal guest guest_nice
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    return (busy * 1000) / clockTicks();
  } catch {
    return undefined;
  }
}

/** One line on how loaded the machine is (load average, and CPU pressure where the kernel reports it). */
export function loadLine(): string {
  const parts = [`load average ${(
    process.platform === 'linux' ? readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3) : ['?']
  ).join(' ')}`];
  try {
    const some = /some avg10=([\d.]+) avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    if (some) parts.push(`cpu pressure avg10 ${some[1]}% avg60 ${some[2]}%`);
  } catch {
    // no PSI
  }
  return parts.join(', ');
}

/**
 * ms of CPU used by this process's main thread (the one running the JavaScript event loop), from
 * /proc/self/task/<pid>/stat; undefined off Linux. Unlike wall-clock figures, it hardly moves when other processes
 * compete for the cores, so it is the figure to compare when trying a change on a busy machine.
 */
export function mainThreadCpuMs(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const text = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
  } catch {
    return undefined;
  }
}

/** CPU pressure (share of time some task waited for a CPU, last 10 s), or undefined without PSI. */
export function cpuPressure10(): number | undefined {
  try {
    const some = /some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return some ? Number(some[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits (up to `maxMs`) until the machine is quiet: CPU pressure below `threshold` % on two checks 5 s apart.
 * Returns how long it waited, or undefined when it gave up or the kernel reports no pressure.
 */
export async function waitForQuiet(maxMs: number, threshold = 15): Promise<number | undefined> {
  const start = Date.now();
  let quiet = 0;
  for (;;) {
    const p = cpuPressure10();
    if (p === undefined) return undefined;
    quiet = p < threshold ? quiet + 1 : 0;
    if (quiet >= 2) return Date.now() - start;
    if (Date.now() - start > maxMs) return undefined;
    await new Promise((r) => setTimeout(r, 5000));
  }
}
