/** What importing a module means: which modules do file-system, network, process or timer work. */
import { builtinModules } from 'node:module';

export type EffectKind = 'io' | 'network' | 'child-process' | 'timer';

const BUILTIN_EFFECTS: Readonly<Record<string, EffectKind>> = {
  fs: 'io',
  readline: 'io',
  http: 'network',
  https: 'network',
  http2: 'network',
  net: 'network',
  tls: 'network',
  dgram: 'network',
  dns: 'network',
  child_process: 'child-process',
  worker_threads: 'child-process',
  cluster: 'child-process',
  timers: 'timer',
};

/** Packages whose whole purpose is the network (HTTP clients, sockets, database drivers). */
const NETWORK_PACKAGES = new Set(['axios', 'node-fetch', 'undici', 'got', 'ky', 'superagent', 'ws', 'pg', 'mysql2', 'ioredis', 'redis', 'mongodb']);

/** `fs` of `node:fs/promises`; undefined for anything that is not a Node built-in. */
export function builtinName(specifier: string): string | undefined {
  const bare = specifier.startsWith('node:') ? specifier.slice('node:'.length) : specifier;
  const base = bare.split('/')[0]!;
  return specifier.startsWith('node:') || builtinModules.includes(bare) || builtinModules.includes(base) ? base : undefined;
}

/** The package a bare specifier names: `@scope/name` or `name`; undefined for relative and absolute paths. */
export function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || builtinName(specifier) !== undefined) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** What loading or calling `specifier` does, when it is one of the modules with effects. */
export function effectOf(specifier: string): EffectKind | undefined {
  const builtin = builtinName(specifier);
  if (builtin !== undefined) return BUILTIN_EFFECTS[builtin];
  const name = packageName(specifier);
  return name !== undefined && NETWORK_PACKAGES.has(name) ? 'network' : undefined;
}

/** A few words on what a module of that kind does, for messages. */
export const EFFECT_WORDS: Readonly<Record<EffectKind, string>> = {
  io: 'file-system access',
  network: 'network access',
  'child-process': 'starting processes or threads',
  timer: 'timers',
};
