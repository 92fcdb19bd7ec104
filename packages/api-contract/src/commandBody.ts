import Type from 'typebox';
import type { CommandJson, CommandType } from '@ratsfach/domain';

/** The JSON body of one domain command of `T` (`commandToJson` writes it). */
export type CommandJsonOf<T extends CommandType> = Extract<CommandJson, { type: T }>;

/**
 * The envelope of a domain command in a JSON body, typed as the domain's `CommandJson` of the
 * listed types. The HTTP layer checks only the envelope (type, an object of data, metadata); the
 * service reads the whole body with the domain's `commandFromJson`, which refuses any field the
 * command's schema does not list with RATSFACH_DOMAIN_COMMAND_MALFORMED, so each command's fields
 * have one definition: the domain's.
 */
export const commandBodyOf = <const T extends CommandType>(types: readonly T[]) =>
  Type.Unsafe<CommandJsonOf<T>>(
    Type.Object(
      {
        type: Type.Enum([...types]),
        data: Type.Object({}, { additionalProperties: true }),
        metadata: Type.Object(
          {
            commandId: Type.String({ minLength: 1, maxLength: 128 }),
            now: Type.String({ maxLength: 40 }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
  );
