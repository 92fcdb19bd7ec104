import type { Command, Event } from '@ratsfach/kernel';
import type { CommandData } from '../../schemas/commandSchemas.js';
import type { EventData } from '../../schemas/eventSchemas.js';

/** The delivery stream of one UTC day (`delivery-<t>-<YYYYMMDD>`) folded. */
export interface DeliveryState {
  readonly deliveries: number;
}

/** Which device received which version when: observed by the server, not signed by a device. */
export interface DeliveryFields {
  readonly tenantId: string;
  readonly committeeId: string;
  readonly documentId: string;
  readonly version: number;
  readonly userId: string;
  readonly deviceId: string;
  /** ISO 8601 UTC; its day names the stream. */
  readonly deliveredAt: string;
}

/** The server records that it delivered a version to a device. */
export type RecordDelivery = Command<'RecordDelivery', CommandData<'RecordDelivery'>>;
export type DeliveryCommand = RecordDelivery;

/** Labels the fact as the server's own observation, not something a device signed. */
export const serverAttested = 'server' as const;

export type DocumentDelivered = Event<'DocumentDelivered', EventData<'DocumentDelivered'>>;
export type DeliveryEvent = DocumentDelivered;
