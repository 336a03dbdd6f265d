import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { run } from '../devserver.js';
const si = createRequire(import.meta.url)('/work/main/node_modules/@grpc/grpc-js/build/src/server-interceptors.js');
let gunzips = 0; let gzBytes = 0; let gzMs = 0;
const origDec = si.BaseServerInterceptingCall.prototype.decompressMessage;
si.BaseServerInterceptingCall.prototype.decompressMessage = function (message: Buffer, encoding: string) {
  if (encoding !== 'identity') { gunzips++; gzBytes += message.length; }
  const t0 = performance.now();
  const r = origDec.call(this, message, encoding);
  gzMs += performance.now() - t0;
  return r;
};
const origAdd = grpc.Server.prototype.addService;
grpc.Server.prototype.addService = function (def, impl) {
  const wrapped: grpc.UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(impl)) {
    wrapped[name] = ((call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return (fn as (c: unknown, cb: unknown) => void)(call, cb);
    }) as grpc.UntypedHandleCall;
  }
  return origAdd.call(this, def, wrapped);
};
const total = 500;
const res = await run({ quick: false, flags: { levels: '10', total: String(total), warmup: '0' }, log: (l) => console.error(l) });
console.log(res.map((r) => `${r.metric}=${r.value.toFixed(1)}`).join(' '));
for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1])) console.log(k, v, (v / total).toFixed(2), 'per wf');
console.log('gunzip streams', gunzips, (gunzips / total).toFixed(2), 'per wf', 'avg bytes', (gzBytes/gunzips).toFixed(0), 'sync ms', gzMs.toFixed(0));
process.exit(0);
