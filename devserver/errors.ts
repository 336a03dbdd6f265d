import { status as GrpcStatus, Metadata } from '@grpc/grpc-js';
import { api, rpcStatus } from './proto.js';

/** An error answered to the client as a gRPC status, optionally with typed error details. */
export class RpcError extends Error {
  constructor(
    readonly code: GrpcStatus,
    message: string,
    readonly details: { typeName: string; value: Uint8Array }[] = [],
  ) {
    super(message);
  }

  metadata(): Metadata {
    const metadata = new Metadata();
    if (this.details.length > 0) {
      const status = rpcStatus.encode({
        code: this.code,
        message: this.message,
        details: this.details.map((d) => ({ type_url: `type.googleapis.com/${d.typeName}`, value: d.value })),
      }).finish();
      metadata.set('grpc-status-details-bin', Buffer.from(status));
    }
    return metadata;
  }
}

export const invalid = (message: string): RpcError => new RpcError(GrpcStatus.INVALID_ARGUMENT, message);
export const notFound = (message: string): RpcError => new RpcError(GrpcStatus.NOT_FOUND, message);
export const failedPrecondition = (message: string): RpcError => new RpcError(GrpcStatus.FAILED_PRECONDITION, message);
export const unimplemented = (what: string): RpcError =>
  new RpcError(GrpcStatus.UNIMPLEMENTED, `${what} is not implemented by the lastmile devserver`);

export function namespaceNotFound(namespace: string): RpcError {
  const detail = api.errordetails.v1.NamespaceNotFoundFailure.encode({ namespace }).finish();
  return new RpcError(GrpcStatus.NOT_FOUND, `Namespace ${namespace} is not found.`, [
    { typeName: 'temporal.api.errordetails.v1.NamespaceNotFoundFailure', value: detail },
  ]);
}

export function alreadyStarted(workflowId: string, runId: string, startRequestId: string): RpcError {
  const detail = api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure.encode({ startRequestId, runId }).finish();
  return new RpcError(GrpcStatus.ALREADY_EXISTS, `Workflow execution is already running. WorkflowId: ${workflowId}, RunId: ${runId}.`, [
    { typeName: 'temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure', value: detail },
  ]);
}
