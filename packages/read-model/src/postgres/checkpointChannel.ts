import { createHash } from 'node:crypto';

/**
 * The LISTEN/NOTIFY channel on which the read models in `schema` announce each committed batch
 * (the payload is the new checkpoint, decimal). PostgreSQL refuses channel names over 63 bytes,
 * so a long schema name is replaced by a hash of it.
 */
export function checkpointChannel(schema: string): string {
  const plain = `ratsfach_rm_${schema}`;
  return plain.length <= 63
    ? plain
    : `ratsfach_rm_${createHash('sha256').update(schema).digest('hex').slice(0, 40)}`;
}
