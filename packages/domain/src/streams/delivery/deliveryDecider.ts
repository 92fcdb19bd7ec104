import { type Decider, eventMetadata, type EventMetadata } from '@ratsfach/kernel';
import { domainErrors } from '../../domainErrors.js';
import type { DomainContext } from '../domainContext.js';
import { assertNever, checkId, checkInt, checkMetadata, checkTime } from '../../validate.js';
import { serverAttested } from './deliveryStream.js';
import type {
  DeliveryCommand,
  DeliveryEvent,
  DeliveryState,
  RecordDelivery,
} from './deliveryStream.js';

/** The UTC day (`YYYYMMDD`) of an ISO 8601 UTC time: the partition of the delivery log. */
export const deliveryDay = (isoTime: string): string => isoTime.slice(0, 10).replaceAll('-', '');

/** The server records a delivery on the stream of the delivery's own UTC day. */
function recordDelivery(
  { data }: RecordDelivery,
  context: DomainContext,
  metadata: EventMetadata,
): DeliveryEvent[] {
  const { tenantId, committeeId, documentId, version, userId, deviceId, deliveredAt } = data;
  checkId('tenantId', tenantId);
  checkId('committeeId', committeeId);
  checkId('documentId', documentId);
  checkInt('version', version, 1);
  checkId('userId', userId);
  checkId('deviceId', deviceId);
  checkTime('deliveredAt', deliveredAt);
  if (context.day === undefined)
    throw domainErrors.contextMissing('the day of the delivery stream');
  if (deliveryDay(deliveredAt) !== context.day) {
    throw domainErrors.deliveryWrongDay(deliveredAt, context.day);
  }
  const fields = { tenantId, committeeId, documentId, version, userId, deviceId, deliveredAt };
  return [{ type: 'DocumentDelivered', data: { ...fields, attestedBy: serverAttested }, metadata }];
}

/** Decides the server's delivery records, partitioned by UTC day. */
export function decideDelivery(
  command: DeliveryCommand,
  _state: DeliveryState,
  context: DomainContext,
): DeliveryEvent[] {
  checkMetadata(command.metadata);
  const metadata = eventMetadata(command.metadata);
  switch (command.type) {
    case 'RecordDelivery':
      return recordDelivery(command, context, metadata);
    default:
      return assertNever(command.type);
  }
}

/** Folds one delivery event into the state. */
export function evolveDelivery(state: DeliveryState, event: DeliveryEvent): DeliveryState {
  switch (event.type) {
    case 'DocumentDelivered':
      return { deliveries: state.deliveries + 1 };
    default:
      return assertNever(event.type);
  }
}

/** A delivery stream's decider. */
export const deliveryDecider: Decider<
  DeliveryCommand,
  DeliveryEvent,
  DeliveryState,
  DomainContext
> = {
  decide: decideDelivery,
  evolve: evolveDelivery,
  initialState: () => ({ deliveries: 0 }),
};
