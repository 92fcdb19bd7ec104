import { type CommandMetadata, hashLength, isValidId } from '@ratsfach/kernel';
import { domainErrors } from './domainErrors.js';

const malformed = domainErrors.commandMalformed;

/** ISO 8601 UTC timestamp as deciders accept it: `YYYY-MM-DDTHH:MM:SS[.fff]Z`. */
const isoPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export const isIsoTime = (value: string): boolean =>
  isoPattern.test(value) && !Number.isNaN(Date.parse(value));

/** Refuses command metadata without a command id or a well-formed decision time. */
export function checkMetadata(metadata: CommandMetadata): void {
  if (
    typeof metadata.commandId !== 'string' ||
    metadata.commandId.length === 0 ||
    metadata.commandId.length > 128
  ) {
    throw domainErrors.commandIdInvalid();
  }
  if (typeof metadata.now !== 'string' || !isIsoTime(metadata.now)) {
    throw domainErrors.commandTimeInvalid();
  }
}

export function checkId(field: string, value: string): void {
  if (typeof value !== 'string' || !isValidId(value))
    throw malformed(field, 'expected an id of [a-z0-9_]{1,64}');
}

export function checkHash(field: string, value: Uint8Array): void {
  if (!(value instanceof Uint8Array) || value.length !== hashLength) {
    throw malformed(field, `expected a ${hashLength}-byte hash`);
  }
}

export function checkInt(
  field: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw malformed(field, `expected an integer from ${min} to ${max}`);
  }
}

export function checkTime(field: string, value: string): void {
  if (typeof value !== 'string' || !isIsoTime(value))
    throw malformed(field, 'expected an ISO 8601 UTC time');
}

export function checkText(field: string, value: string, maxLength: number): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw malformed(field, `expected a string of 1 to ${maxLength} characters`);
  }
}

export function checkBytes(field: string, value: Uint8Array, maxLength: number): void {
  if (!(value instanceof Uint8Array) || value.length === 0 || value.length > maxLength) {
    throw malformed(field, `expected 1 to ${maxLength} bytes`);
  }
}

/** Largest signed record the domain accepts inside one event. */
export const maxRecordBytes = 64 * 1024;

export const checkRecordBytes = (value: Uint8Array): void =>
  checkBytes('record', value, maxRecordBytes);

/**
 * Exhaustiveness check for switch statements over unions. Reached at run time only by input that
 * escaped the types (an unknown command type from the wire, say), so it refuses it as such.
 */
export function assertNever(value: never): never {
  const named: unknown =
    typeof value === 'object' && value !== null && 'type' in value
      ? (value as { type: unknown }).type
      : value;
  throw domainErrors.typeUnknown(named);
}
