import { ValidationError } from './errors.js';
import { KernelErrorCode } from './kernelErrorCode.js';

/** The kinds of stream in the log (docs/design.md, "Streams"). */
export const StreamKind = {
  tenant: 'tenant',
  user: 'user',
  committee: 'committee',
  document: 'document',
  delivery: 'delivery',
} as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

const kinds: ReadonlySet<string> = new Set(Object.values(StreamKind));

/**
 * Ids (tenant, user, committee, document) are lowercase letters, digits and `_`, 1 to 64
 * characters: no `-`, so a device-chosen id can never spell another tenant's stream.
 * A delivery stream's id is a UTC day, `YYYYMMDD`.
 */
const idPattern = /^[a-z0-9_]{1,64}$/;

export interface StreamName {
  readonly kind: StreamKind;
  readonly tenant: string;
  /** The tenant id again for the tenant stream, which has no id of its own. */
  readonly id: string;
}

export const isValidId = (id: string): boolean => idPattern.test(id);

const invalid = (name: string, why: string): ValidationError =>
  new ValidationError(
    KernelErrorCode.streamNameInvalid,
    `stream name ${JSON.stringify(name)}: ${why}`,
    {
      hint: 'stream names are <kind>-<tenant>-<id> (tenant-<tenant> for the tenant stream), ids of [a-z0-9_]{1,64}',
      details: { stream: name },
    },
  );

/** Parses and checks a stream name; throws ValidationError RATSFACH_STREAM_NAME_INVALID. */
export function parseStreamName(name: string): StreamName {
  const parts = name.split('-');
  const kind = parts[0] ?? '';
  if (!kinds.has(kind)) throw invalid(name, `unknown kind ${JSON.stringify(kind)}`);
  if (kind === StreamKind.tenant) {
    if (parts.length !== 2 || !isValidId(parts[1] ?? ''))
      throw invalid(name, 'expected tenant-<tenant>');
    return { kind: StreamKind.tenant, tenant: parts[1] as string, id: parts[1] as string };
  }
  if (parts.length !== 3) throw invalid(name, `expected ${kind}-<tenant>-<id>`);
  const [, tenant = '', id = ''] = parts;
  if (!isValidId(tenant)) throw invalid(name, 'tenant id is not [a-z0-9_]{1,64}');
  if (!isValidId(id)) throw invalid(name, 'id is not [a-z0-9_]{1,64}');
  if (kind === StreamKind.delivery && !/^\d{8}$/.test(id)) {
    throw invalid(name, 'a delivery stream id is a UTC day, YYYYMMDD');
  }
  return { kind: kind as StreamKind, tenant, id };
}

/** Builds a stream name from its parts, refusing ids of the wrong shape. */
export function streamName(kind: StreamKind, tenant: string, id?: string): string {
  const name = kind === StreamKind.tenant ? `tenant-${tenant}` : `${kind}-${tenant}-${id ?? ''}`;
  parseStreamName(name);
  return name;
}
