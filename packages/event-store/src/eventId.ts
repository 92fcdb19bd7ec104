import { createHash } from 'node:crypto';
import { parseStreamName } from '@ratsfach/domain';

/**
 * Namespace of ratsfach event ids (UUIDv5, RFC 9562). Fixed forever: changing it would change
 * every event id and break idempotent retries across the change.
 */
export const EVENT_ID_NAMESPACE = '0dc93c42-c335-4617-877c-0791b076c99d';

const namespaceBytes = Buffer.from(EVENT_ID_NAMESPACE.replaceAll('-', ''), 'hex');

const hex = (bytes: Buffer): string => {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/**
 * The id of the `index`-th event of a command: UUIDv5 over the tenant, the command id and the
 * index, each length-prefixed. The tenant is part of the name, so two tenants that happen to
 * choose the same command id never collide; a retry of the same command yields the same ids.
 */
export function eventIdFor(tenant: string, commandId: string, index: number): string {
  const tenantBytes = Buffer.from(tenant, 'utf8');
  const commandBytes = Buffer.from(commandId, 'utf8');
  const name = Buffer.allocUnsafe(4 + tenantBytes.length + 4 + commandBytes.length + 4);
  let offset = name.writeUInt32BE(tenantBytes.length, 0);
  offset += tenantBytes.copy(name, offset);
  offset = name.writeUInt32BE(commandBytes.length, offset);
  offset += commandBytes.copy(name, offset);
  name.writeUInt32BE(index, offset);
  const digest = createHash('sha1').update(namespaceBytes).update(name).digest();
  digest[6] = ((digest[6] ?? 0) & 0x0f) | 0x50;
  digest[8] = ((digest[8] ?? 0) & 0x3f) | 0x80;
  return hex(digest.subarray(0, 16));
}

/** The ids of all events of a command appended to `stream` (tenant taken from the name). */
export function eventIdsFor(stream: string, commandId: string, count: number): string[] {
  const { tenant } = parseStreamName(stream);
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) ids.push(eventIdFor(tenant, commandId, index));
  return ids;
}
