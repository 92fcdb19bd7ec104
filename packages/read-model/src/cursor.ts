import { base64urlDecode, base64urlEncode, isValidId } from '@ratsfach/domain';
import { cursorInvalid } from './readModelErrors.js';

/**
 * A manifest cursor decoded: whose it is, and how far each of their feeds was read. The
 * device never looks inside; it sends back what it got.
 */
export interface ManifestCursor {
  readonly tenantId: string;
  readonly userId: string;
  /** Last entry of the user's own feed that was delivered (0: none). */
  readonly user: number;
  /** Per committee, the last feed entry delivered; a committee absent here is read from 1. */
  readonly committees: Readonly<Record<string, number>>;
}

/** How two cursors of one user relate, as vectors of feed positions. */
export type CursorOrder = 'equal' | 'before' | 'after' | 'concurrent';

const prefix = 'm1.';
/** A cursor names one position per committee the user reads; this bounds its text. */
const maxCursorLength = 65_536;

const isPosition = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Encodes a cursor as opaque text: `m1.` and base64url of JSON with sorted keys, so one
 * cursor always gives the same text.
 */
export function encodeCursor(cursor: ManifestCursor): string {
  const committees: Record<string, number> = {};
  for (const id of Object.keys(cursor.committees).sort()) {
    committees[id] = cursor.committees[id] as number;
  }
  const body = JSON.stringify({
    c: committees,
    t: cursor.tenantId,
    u: cursor.userId,
    v: cursor.user,
  });
  return prefix + base64urlEncode(new TextEncoder().encode(body));
}

/**
 * Decodes a cursor's text; throws ValidationError RATSFACH_READ_MODEL_CURSOR_INVALID for
 * anything `encodeCursor` did not make. Whether it belongs to the asker and is not ahead of
 * the feeds is the store's check (`manifestDelta`).
 */
export function decodeCursor(text: string): ManifestCursor {
  if (typeof text !== 'string' || !text.startsWith(prefix)) throw cursorInvalid('unknown format');
  if (text.length > maxCursorLength) throw cursorInvalid('too long');
  let value: unknown;
  try {
    value = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(base64urlDecode(text.slice(prefix.length))),
    );
  } catch {
    throw cursorInvalid('not decodable');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw cursorInvalid('not an object');
  }
  const { c, t, u, v, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw cursorInvalid('unknown fields');
  if (typeof t !== 'string' || !isValidId(t)) throw cursorInvalid('bad tenant');
  if (typeof u !== 'string' || !isValidId(u)) throw cursorInvalid('bad user');
  if (!isPosition(v)) throw cursorInvalid('bad user-feed position');
  if (c === null || typeof c !== 'object' || Array.isArray(c))
    throw cursorInvalid('bad committees');
  const committees: Record<string, number> = {};
  for (const [id, position] of Object.entries(c)) {
    if (!isValidId(id) || !isPosition(position)) throw cursorInvalid('bad committee position');
    committees[id] = position;
  }
  const cursor: ManifestCursor = { tenantId: t, userId: u, user: v, committees };
  // Only the canonical text is a cursor, so two texts never name one position.
  if (encodeCursor(cursor) !== text) throw cursorInvalid('not in canonical form');
  return cursor;
}

/**
 * Compares two cursors of one user feed by feed (an absent committee counts as 0): `before`
 * when every position of `a` is at or below `b`'s and one is below, `concurrent` when each is
 * ahead somewhere. Cursors of different users or tenants are `concurrent`.
 */
export function compareCursors(a: ManifestCursor, b: ManifestCursor): CursorOrder {
  if (a.tenantId !== b.tenantId || a.userId !== b.userId) return 'concurrent';
  let aAhead = a.user > b.user;
  let bAhead = b.user > a.user;
  for (const id of new Set([...Object.keys(a.committees), ...Object.keys(b.committees)])) {
    const pa = a.committees[id] ?? 0;
    const pb = b.committees[id] ?? 0;
    if (pa > pb) aAhead = true;
    if (pb > pa) bAhead = true;
  }
  if (aAhead && bAhead) return 'concurrent';
  if (aAhead) return 'after';
  if (bAhead) return 'before';
  return 'equal';
}
