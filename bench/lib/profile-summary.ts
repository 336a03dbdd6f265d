/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): where the samples went, by area (devserver, grpc-js,
 * protobufjs, Temporal SDK, pg, ...), by function (self time), and the inclusive time of chosen functions.
 *
 *   npx tsx bench/lib/profile-summary.ts <file.cpuprofile> [--top=N] [--skip-s=S] [--fn=name,name]
 *
 * `--skip-s` ignores the first S seconds of samples (start-up, bundling, warm-up); `--within=REGEX` keeps only samples
 * with a frame whose url matches (e.g. `--within=/devserver/` for the devserver's own code and what it calls).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

const AREAS: [string, RegExp][] = [
  ['devserver/', /\/devserver\//],
  ['bench/', /\/bench\//],
  ['@grpc/grpc-js', /@grpc\/grpc-js/],
  ['protobufjs', /protobufjs|@temporalio\/proto/],
  ['@temporalio/worker', /@temporalio\/worker/],
  ['@temporalio/client', /@temporalio\/client/],
  ['@temporalio/common', /@temporalio\/common/],
  ['@temporalio/core-bridge', /@temporalio\/core-bridge/],
  ['pg', /node_modules\/pg/],
  ['tsx/esbuild', /tsx|esbuild/],
  ['other node_modules', /node_modules/],
  ['node internals', /^node:|^internal\//],
];

function area(node: Node): string {
  const { url, functionName } = node.callFrame;
  if (!url) {
    if (functionName === '(garbage collector)') return '(gc)';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(program)') return '(program)';
    return '(native/builtin)';
  }
  for (const [name, re] of AREAS) if (re.test(url)) return name;
  return url;
}

function short(node: Node): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(/^.*\/work\/main\//, '');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  process.stderr.write('usage: tsx bench/lib/profile-summary.ts <file.cpuprofile> [--top=N] [--skip-s=S] [--fn=a,b]\n');
  process.exit(2);
}
const flag = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const top = Number(flag('top') ?? 30);
const skipUs = Number(flag('skip-s') ?? 0) * 1e6;
const fns = (flag('fn') ?? '').split(',').filter(Boolean);
const within = flag('within') ? new RegExp(flag('within') as string) : undefined;

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const self = new Map<number, number>();
let t = 0;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  if (t < skipUs) continue;
  const dt = profile.timeDeltas[i + 1] ?? 0;
  if (within) {
    let hit = false;
    for (let cur: number | undefined = profile.samples[i]; cur !== undefined && !hit; cur = parent.get(cur)) {
      hit = within.test((byId.get(cur) as Node).callFrame.url);
    }
    if (!hit) continue;
  }
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  total += dt;
}

/**
 * Who a sample works for, judged from its whole stack (leaf to root): the first owner whose pattern matches any frame.
 * Order matters: a devserver frame anywhere means the devserver's own code (handlers, engine) is on the stack.
 */
const OWNERS: [string, RegExp][] = [
  ['devserver code (handlers, engine)', /\/devserver\//],
  ['pg driver (devserver writes)', /node_modules\/pg(-[a-z]+)?\//],
  ['grpc-js server (devserver transport)', /@grpc\/grpc-js\/build\/src\/server/],
  ['temporal client (grpc-js client)', /@temporalio\/client|@grpc\/grpc-js\/build\/src\/(client|call|subchannel|load-balanc|resolver|channel|internal-channel|retrying-call|load-balancing-call|transport)/],
  ['temporal worker (SDK + core bridge)', /@temporalio\/(worker|core-bridge|common)|rxjs/],
  ['bench driver', /\/bench\//],
];
const ownerTime = new Map<string, number>();

const areaTime = new Map<string, number>();
const fnSelf = new Map<string, number>();
const fnIncl = new Map<string, number>();
for (const [id, us] of self) {
  const node = byId.get(id) as Node;
  areaTime.set(area(node), (areaTime.get(area(node)) ?? 0) + us);
  fnSelf.set(short(node), (fnSelf.get(short(node)) ?? 0) + us);
  let owner: string | undefined;
  const stack: Node[] = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur) as Node);
  for (const [name, re] of OWNERS) {
    if (stack.some((f) => re.test(f.callFrame.url))) {
      owner = name;
      break;
    }
  }
  owner ??= ['(idle)', '(gc)', '(program)'].includes(area(node)) ? area(node) : 'other (node internals without a known caller)';
  ownerTime.set(owner, (ownerTime.get(owner) ?? 0) + us);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const name = short(byId.get(cur) as Node);
    if (seen.has(name)) continue;
    seen.add(name);
    fnIncl.set(name, (fnIncl.get(name) ?? 0) + us);
  }
}

const pct = (us: number): string => `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms`;
const busy = total - (areaTime.get('(idle)') ?? 0);
process.stdout.write(`${file}\nsampled ${(total / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s (${((busy / total) * 100).toFixed(0)}%)\n\nby area (self time):\n`);
for (const [name, us] of [...areaTime].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${pct(us)}  ${name}\n`);
process.stdout.write('\nby owner (whole stack):\n');
for (const [name, us] of [...ownerTime].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${pct(us)}  ${name}\n`);
process.stdout.write(`\ntop ${top} functions by self time:\n`);
for (const [name, us] of [...fnSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(us)}  ${name}\n`);
process.stdout.write(`\ntop ${top} functions by inclusive time:\n`);
for (const [name, us] of [...fnIncl].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${pct(us)}  ${name}\n`);
if (fns.length > 0) {
  process.stdout.write('\nchosen functions (inclusive):\n');
  for (const [name, us] of [...fnIncl].filter(([n]) => fns.some((f) => n.startsWith(`${f} `) || n === f)).sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`  ${pct(us)}  ${name}\n`);
  }
}
