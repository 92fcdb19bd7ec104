import { ValidationError } from '../../errors.js';
import { DomainErrorCode } from '../../domainErrorCode.js';
import type { Decider } from '../../decider.js';
import type { DomainContext } from '../domainContext.js';
import { eventMetadata } from '../../message.js';
import {
  assertNever,
  checkId,
  checkInt,
  checkMetadata,
  checkTime,
  contextMissing,
} from '../../validate.js';
import { serverAttested } from './deliveryStream.js';
import type { DeliveryCommand, DeliveryEvent, DeliveryState } from './deliveryStream.js';

/** The UTC day (`YYYYMMDD`) of an ISO 8601 UTC time: the partition of the delivery log. */
export const deliveryDay = (isoTime: string): string => isoTime.slice(0, 10).replaceAll('-', '');

/** Decides the server's delivery records, partitioned by UTC day. */
export function decideDelivery(
  command: DeliveryCommand,
  _state: DeliveryState,
  context: DomainContext,
): DeliveryEvent[] {
  checkMetadata(command.metadata);
  const metadata = eventMetadata(command.metadata);
  switch (command.type) {
    case 'RecordDelivery': {
      const { tenantId, committeeId, documentId, version, userId, deviceId, deliveredAt } =
        command.data;
      checkId('tenantId', tenantId);
      checkId('committeeId', committeeId);
      checkId('documentId', documentId);
      checkInt('version', version, 1);
      checkId('userId', userId);
      checkId('deviceId', deviceId);
      checkTime('deliveredAt', deliveredAt);
      if (context.day === undefined) throw contextMissing('the day of the delivery stream');
      if (deliveryDay(deliveredAt) !== context.day) {
        throw new ValidationError(
          DomainErrorCode.deliveryWrongDay,
          `a delivery at ${deliveredAt} does not belong to the stream of day ${context.day}`,
          {
            hint: 'append a delivery to the stream of its own UTC day',
            details: { deliveredAt, day: context.day },
          },
        );
      }
      return [
        {
          type: 'DocumentDelivered',
          data: {
            tenantId,
            committeeId,
            documentId,
            version,
            userId,
            deviceId,
            deliveredAt,
            attestedBy: serverAttested,
          },
          metadata,
        },
      ];
    }
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
