import { hash } from 'node:crypto';
import { parseStreamName } from '@ratsfach/kernel';

/**
 * Namespace of ratsfach event ids (UUIDv5, RFC 9562). Fixed forever: changing it would change
 * every event id and break idempotent retries across the change.
 */
export const EVENT_ID_NAMESPACE = '0dc93c42-c335-4617-877c-0791b076c99d';

const namespaceBytes = Buffer.from(EVENT_ID_NAMESPACE.replaceAll('-', ''), 'hex');

const hexDigits = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** The first 16 bytes of `bytes` as a lowercase UUID string, without intermediate strings. */
const uuidString = (bytes: Buffer): string => {
  let out = '';
  for (let index = 0; index < 16; index += 1) {
    if (index === 4 || index === 6 || index === 8 || index === 10) out += '-';
    out += hexDigits[bytes[index] as number] as string;
  }
  return out;
};

/**
 * `namespace || u32be(len) tenant || u32be(len) commandId || u32be(0)`: the SHA-1 input of a
 * command's ids; only the trailing index differs between its events.
 */
const commandName = (tenant: string, commandId: string): Buffer => {
  const tenantLength = Buffer.byteLength(tenant, 'utf8');
  const commandLength = Buffer.byteLength(commandId, 'utf8');
  const name = Buffer.allocUnsafe(16 + 4 + tenantLength + 4 + commandLength + 4);
  let offset = namespaceBytes.copy(name, 0);
  offset = name.writeUInt32BE(tenantLength, offset);
  offset += name.write(tenant, offset, 'utf8');
  offset = name.writeUInt32BE(commandLength, offset);
  name.write(commandId, offset, 'utf8');
  return name;
};

const idAt = (name: Buffer, index: number): string => {
  name.writeUInt32BE(index, name.length - 4);
  const digest = hash('sha1', name, 'buffer');
  digest[6] = ((digest[6] ?? 0) & 0x0f) | 0x50;
  digest[8] = ((digest[8] ?? 0) & 0x3f) | 0x80;
  return uuidString(digest);
};

/**
 * The id of the `index`-th event of a command: UUIDv5 over the tenant, the command id and the
 * index, each length-prefixed. The tenant is part of the name, so two tenants that happen to
 * choose the same command id never collide; a retry of the same command yields the same ids.
 */
export function eventIdFor(tenant: string, commandId: string, index: number): string {
  return idAt(commandName(tenant, commandId), index);
}

/** The ids of all events of a command of `tenant`; the name is encoded once for all of them. */
export function eventIdsForTenant(tenant: string, commandId: string, count: number): string[] {
  const name = commandName(tenant, commandId);
  const ids = new Array<string>(count);
  for (let index = 0; index < count; index += 1) ids[index] = idAt(name, index);
  return ids;
}

/** The ids of all events of a command appended to `stream` (tenant taken from the name). */
export function eventIdsFor(stream: string, commandId: string, count: number): string[] {
  return eventIdsForTenant(parseStreamName(stream).tenant, commandId, count);
}
