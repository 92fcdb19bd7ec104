import type { CommandJsonOf } from '@ratsfach/api-contract';
import type { ChainLink } from '@ratsfach/crypto';
import {
  base64urlDecode,
  commandToJson,
  hashLength,
  type CommandData,
  type CommandType,
  type DomainCommand,
} from '@ratsfach/domain';

/** What every command carries besides its record: its id and its decision time. */
export interface CommandOptions {
  /**
   * The client-chosen command id. Keep it and send the same one on every retry: the service then
   * returns the first result instead of deciding again. Default: a random UUID.
   */
  readonly commandId?: string;
  /** The decision time, Unix milliseconds. Default: now. */
  readonly now?: number;
}

/**
 * Wraps a command's data (its signed record included) into the JSON body the API reads with the
 * domain's `commandFromJson`: the one place where the common part (command id, time, the record
 * as base64url) is written.
 */
export function toCommandJson<T extends CommandType>(
  type: T,
  data: CommandData<T>,
  options: CommandOptions = {},
): CommandJsonOf<T> {
  const command = {
    type,
    data,
    metadata: {
      commandId: options.commandId ?? globalThis.crypto.randomUUID(),
      now: new Date(options.now ?? Date.now()).toISOString(),
    },
  } as unknown as DomainCommand;
  return commandToJson(command) as CommandJsonOf<T>;
}

/**
 * The link of the record that extends a chain whose head the API reported (`ChainHeadReply`, or
 * the length of `listRecords` and the hash of its last record): sequence = length, previous hash
 * = the head's hash (64 zero bytes for an empty chain).
 */
export function nextLink(head: { readonly length: number; readonly hash: string }): ChainLink {
  if (head.length === 0) return { sequence: 0, previousHash: new Uint8Array(hashLength) };
  if (!/^[0-9a-f]{128}$/.test(head.hash)) {
    throw new TypeError(`a chain head of length ${head.length} needs a 128-hex-digit hash`);
  }
  return { sequence: head.length, previousHash: hexToBytes(head.hash) };
}

const hexToBytes = (hex: string): Uint8Array =>
  Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));

/** The signed record bytes a command body carries (to hash it or keep it locally). */
export const recordOf = (command: { readonly data: { readonly record: string } }): Uint8Array =>
  base64urlDecode(command.data.record);
