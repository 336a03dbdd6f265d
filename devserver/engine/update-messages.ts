/**
 * The protocol messages a starting workflow task carries to the worker: one update request per update the workflow
 * has not answered yet (see updates.ts for the rest of the update lifecycle).
 */
import type { temporal } from '@temporalio/proto';
import type { Execution } from './execution.js';

type MessageProps = temporal.api.protocol.v1.Message.$Properties;

const REQUEST_URL = 'type.googleapis.com/temporal.api.update.v1.Request';

/** The protocol messages of a workflow task that is starting: every update the workflow has not answered yet. */
export function updateMessages(ex: Execution, stamp: number, startedEventId: number): MessageProps[] {
  const out: MessageProps[] = [];
  for (const admitted of ex.admittedUpdates.values()) {
    if (admitted.rejection) continue;
    admitted.deliveredIn = stamp;
    out.push({
      id: `${admitted.updateId}/request`,
      protocolInstanceId: admitted.updateId,
      eventId: (startedEventId - 1) as unknown as MessageProps['eventId'],
      body: { type_url: REQUEST_URL, value: admitted.request } as MessageProps['body'],
    });
  }
  return out;
}
