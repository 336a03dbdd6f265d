import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { RpcError } from '../errors.js';
import type { CallContext } from './context.js';
import { checkPayloadSizes } from './payload-limits.js';

export type AnyHandler = (request: unknown, ctx: CallContext) => Promise<Record<string, unknown>> | Record<string, unknown>;
export type HandlerMap = Record<string, AnyHandler>;

interface MessageType {
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  fromObject(object: Record<string, unknown>): unknown;
}

interface MethodInfo {
  name: string;
  resolvedRequestType?: MessageType | null;
  resolvedResponseType?: MessageType | null;
  resolve(): unknown;
}

interface ServiceInfo {
  fullName: string;
  methods: Record<string, MethodInfo>;
}

// @temporalio/proto ships a protobufjs root with reflection (services, methods, messages) in json-module.js.
const reflection = createRequire(import.meta.url)('@temporalio/proto/protos/json-module.js') as {
  lookupService(name: string): unknown;
};

function lookupService(name: string): ServiceInfo {
  return reflection.lookupService(name) as ServiceInfo;
}

/** Stands in for a request whose bytes did not decode. */
class MalformedRequest {
  constructor(readonly reason: string) {}
}

export interface ServiceSpec {
  name: string;
  handlers: HandlerMap;
}

export interface ServerOptions {
  payloadLimit: number;
  log: (line: string) => void;
  /** called before an over-limit request is refused, so the engine can fail the task it reports on */
  onOversized?: (method: string, request: unknown, error: RpcError) => Promise<void>;
}

function definitionFor(spec: ServiceSpec, options: ServerOptions): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  const service = lookupService(spec.name);
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of Object.values(service.methods)) {
    method.resolve();
    const requestType = method.resolvedRequestType as MessageType;
    const responseType = method.resolvedResponseType as MessageType;
    const path = `/${service.fullName.replace(/^\./, '')}/${method.name}`;
    definition[method.name] = {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: unknown) => Buffer.from(requestType.encode(value).finish()),
      // A request that does not decode is answered INVALID_ARGUMENT by `serve` (grpc-js itself would say INTERNAL).
      requestDeserialize: (bytes: Buffer) => {
        try {
          return requestType.decode(bytes);
        } catch (error) {
          return new MalformedRequest(error instanceof Error ? error.message : String(error));
        }
      },
      responseSerialize: (value: unknown) => Buffer.from(responseType.encode(value).finish()),
      responseDeserialize: (bytes: Buffer) => responseType.decode(bytes),
      originalName: method.name,
    };
    const handler = spec.handlers[method.name];
    implementation[method.name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      void serve(spec.name, method.name, handler, responseType, call, callback, options);
    };
  }
  return { definition: definition as grpc.ServiceDefinition, implementation };
}

async function serve(
  serviceName: string,
  methodName: string,
  handler: AnyHandler | undefined,
  responseType: MessageType,
  call: grpc.ServerUnaryCall<unknown, unknown>,
  callback: grpc.sendUnaryData<unknown>,
  options: ServerOptions,
): Promise<void> {
  const short = serviceName.split('.').pop();
  const deadlineValue = call.getDeadline();
  const deadline = deadlineValue instanceof Date ? deadlineValue.getTime() : Number.isFinite(deadlineValue) ? Number(deadlineValue) : Infinity;
  const cancelListeners: (() => void)[] = [];
  let cancelled = false;
  call.on('cancelled', () => {
    cancelled = true;
    for (const listener of cancelListeners.splice(0)) listener();
  });
  const ctx: CallContext = {
    deadline,
    isCancelled: () => cancelled || call.cancelled,
    onCancel: (listener) => (cancelled ? listener() : cancelListeners.push(listener)),
  };
  try {
    if (!handler) throw new RpcError(grpc.status.UNIMPLEMENTED, `${short}/${methodName} is not implemented by the lastmile devserver`);
    if (call.request instanceof MalformedRequest) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `${short}/${methodName}: the request is not a valid protobuf message: ${call.request.reason}`);
    }
    try {
      checkPayloadSizes(call.request, options.payloadLimit);
    } catch (error) {
      if (error instanceof RpcError && options.onOversized) await options.onOversized(methodName, call.request, error);
      throw error;
    }
    const result = await handler(call.request, ctx);
    callback(null, responseType.fromObject(result));
  } catch (error) {
    if (error instanceof RpcError) {
      callback({ code: error.code, details: error.message, metadata: error.metadata() });
      return;
    }
    options.log(`devserver: ${short}/${methodName} failed: ${error instanceof Error ? error.stack : String(error)}`);
    callback({
      code: grpc.status.INTERNAL,
      details: `${short}/${methodName} failed inside the devserver: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

/** Starts a gRPC server on host:port serving the given services; resolves with the bound port. */
export async function startGrpcServer(
  host: string,
  port: number,
  services: ServiceSpec[],
  options: ServerOptions,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 128 * 1024 * 1024,
    'grpc.max_send_message_length': 128 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
  });
  for (const spec of services) {
    const { definition, implementation } = definitionFor(spec, options);
    server.addService(definition, implementation);
  }
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, actual) => {
      if (error) reject(new Error(`The devserver could not listen on ${host}:${port}: ${error.message}`));
      else resolve(actual);
    });
  });
  return { server, port: bound };
}
