import { domainErrors } from '../domainErrors.js';
import type { DomainCommand } from './deciders.js';
import { commandJsonSchemas, commandSchemas } from '../schemas/commandSchemas.js';
import type { CommandJson, CommandType } from '../schemas/commandSchemas.js';
import { firstProblem, lazyValidators } from '../schemas/lazyValidators.js';

const isCommandType = (type: unknown): type is CommandType =>
  typeof type === 'string' && Object.hasOwn(commandSchemas, type);

const validator = lazyValidators(commandSchemas);
const jsonValidator = lazyValidators(commandJsonSchemas);

/** The command type of an untrusted value, refusing what is no object or names no command. */
function commandTypeOf(value: unknown): CommandType {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw domainErrors.commandNotAnObject();
  }
  const { type } = value as { readonly type?: unknown };
  if (!isCommandType(type)) throw domainErrors.typeUnknown(type);
  return type;
}

/**
 * Checks that a value built from untrusted input (bytes already `Uint8Array`) is a command of a
 * known type with exactly the fields its schema (`commandSchemas`) lists. Refuses with
 * ValidationError RATSFACH_DOMAIN_TYPE_UNKNOWN or RATSFACH_DOMAIN_COMMAND_MALFORMED (naming the
 * first bad field); the decider then checks the rules.
 */
export function parseCommand(value: unknown): DomainCommand {
  const type = commandTypeOf(value);
  const check = validator(type);
  if (!check.Check(value)) {
    throw domainErrors.commandShape(type, firstProblem(check, value, 'command'));
  }
  return value as DomainCommand;
}

/**
 * Reads a command from a JSON body (`commandJsonSchemas`: the signed record as base64url text),
 * decodes the record and checks the result as `parseCommand` does. A record in any but the one
 * canonical base64url spelling is refused as malformed.
 */
export function commandFromJson(value: unknown): DomainCommand {
  const type = commandTypeOf(value);
  const check = jsonValidator(type);
  if (!check.Check(value)) {
    throw domainErrors.commandShape(type, firstProblem(check, value, 'command'));
  }
  let decoded: unknown;
  try {
    decoded = check.Decode(value);
  } catch (error) {
    throw domainErrors.commandMalformed('record', 'not the one base64url spelling of bytes', error);
  }
  return parseCommand(decoded);
}

/** Writes a command as the JSON body `commandFromJson` reads (what a client sends). */
export function commandToJson(command: DomainCommand): CommandJson {
  return jsonValidator(commandTypeOf(command)).Encode(command) as CommandJson;
}
