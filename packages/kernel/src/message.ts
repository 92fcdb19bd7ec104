import type { CommandMetadata } from './decider.js';

/** Metadata every domain event carries; the event store adds ids, positions and hashes. */
export interface EventMetadata {
  /** The command that produced the event. */
  readonly commandId: string;
  /** The decision time from the command's metadata (ISO 8601, UTC). */
  readonly occurredAt: string;
}

/** A command: imperative `type`, its `data`, and metadata carrying time and ids. */
export interface Command<Type extends string, Data> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: CommandMetadata;
}

/** An event: past-tense `type`, its `data`, and metadata. */
export interface Event<Type extends string, Data> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: EventMetadata;
}

/** What every event carrying a signed record holds next to its indexed fields. */
export interface RecordCarrier {
  /** The exact bytes the device (or root) signed. */
  readonly record: Uint8Array;
  /** BLAKE2b-512 of `record`, as the verifier reported it: the new head of the stream's chain. */
  readonly recordHash: Uint8Array;
  /** The record's position in its stream's chain. */
  readonly sequence: number;
}

/** Event metadata derived from the command that caused it. */
export const eventMetadata = (metadata: CommandMetadata): EventMetadata => ({
  commandId: metadata.commandId,
  occurredAt: metadata.now,
});
