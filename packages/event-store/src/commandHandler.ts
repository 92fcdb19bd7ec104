import { parseStreamName, type Decider } from '@ratsfach/kernel';
import { ConcurrencyError, InvalidCommandIdError } from './errors.js';
import { eventIdFor } from './shared/eventId.js';
import type { AppendResult, EventStore, NewEvent, RecordedEvent } from './eventStore.js';
import { NO_STREAM } from './expectedRevision.js';

/** Turns domain events into the store's bytes and back (the domain's encodeEvent/decodeEvent). */
export interface EventSerializer<Event> {
  encode(event: Event): NewEvent;
  decode(recorded: RecordedEvent): Event;
}

export interface CommandHandlerOptions<Command, Event, State, Context> {
  readonly store: EventStore;
  readonly decider: Decider<Command, Event, State, Context>;
  readonly serializer: EventSerializer<Event>;
  /**
   * Loads the state of the other streams the decision needs. Called again on every retry, so a
   * retry decides against fresh context as well as a fresh stream.
   */
  readonly loadContext: (
    command: Command,
    state: State,
    stream: string,
  ) => Promise<Context> | Context;
  /** Retries after a ConcurrencyError before it is rethrown. Default 3. */
  readonly maxRetries?: number;
}

export interface CommandResult<Event, State> {
  readonly stream: string;
  /** What the store reported; null when the decider decided no events. */
  readonly append: AppendResult | null;
  /** The command's events: the ones just decided, or the stored ones for a replay. */
  readonly events: readonly Event[];
  /** The stream's state after the command's events. */
  readonly state: State;
  /** True when this command id had already been appended: nothing was decided or written now. */
  readonly replayed: boolean;
  /** How many times the decision was made (1 unless a concurrent writer forced a retry). */
  readonly attempts: number;
}

export interface HandleOptions {
  /** The command's id; defaults to `command.metadata.commandId`. */
  readonly commandId?: string;
}

const commandIdOf = (command: unknown, options: HandleOptions): string => {
  if (options.commandId !== undefined) return options.commandId;
  const metadata = (command as { metadata?: { commandId?: unknown } } | null)?.metadata;
  if (typeof metadata?.commandId === 'string') return metadata.commandId;
  throw new InvalidCommandIdError('the command carries no metadata.commandId and none was given');
};

/**
 * Runs commands against one stream each: load the stream, fold it with `evolve` from
 * `initialState`, load the context, `decide`, append with the exact revision that was read
 * (NO_STREAM for a new stream) under the command's id. A concurrent writer makes the append fail
 * with ConcurrencyError; the handler then reloads and decides again, up to `maxRetries` times.
 * A command whose id is already in the stream is not decided again: its stored events and result
 * come back with `replayed: true`.
 */
export class CommandHandler<Command, Event, State, Context> {
  readonly #options: CommandHandlerOptions<Command, Event, State, Context>;
  readonly #maxRetries: number;

  constructor(options: CommandHandlerOptions<Command, Event, State, Context>) {
    this.#options = options;
    this.#maxRetries = options.maxRetries ?? 3;
  }

  async handle(
    stream: string,
    command: Command,
    options: HandleOptions = {},
  ): Promise<CommandResult<Event, State>> {
    const { tenant } = parseStreamName(stream);
    const commandId = commandIdOf(command, options);
    const firstEventId = eventIdFor(tenant, commandId, 0);
    const { store, decider, serializer } = this.#options;
    for (let attempt = 1; ; attempt += 1) {
      let state = decider.initialState();
      let revision: bigint | null = null;
      // The command's events carry ids derived from its id, so a command that was already
      // appended shows up while folding: ids for index 0, 1, ... in a row.
      const own: RecordedEvent[] = [];
      const ownEvents: Event[] = [];
      let nextOwnId = firstEventId;
      for await (const recorded of store.readStream(stream)) {
        const event = serializer.decode(recorded);
        state = decider.evolve(state, event);
        revision = recorded.revision;
        if (recorded.eventId === nextOwnId) {
          own.push(recorded);
          ownEvents.push(event);
          nextOwnId = eventIdFor(tenant, commandId, own.length);
        }
      }
      const last = own[own.length - 1];
      if (last !== undefined) {
        return {
          stream,
          append: {
            nextExpectedRevision: last.revision,
            lastGlobalPosition: last.globalPosition,
            eventIds: own.map((r) => r.eventId),
            replayed: true,
          },
          events: ownEvents,
          state,
          replayed: true,
          attempts: attempt,
        };
      }
      const context = await this.#options.loadContext(command, state, stream);
      const events = decider.decide(command, state, context);
      if (events.length === 0) {
        return { stream, append: null, events, state, replayed: false, attempts: attempt };
      }
      try {
        const append = await store.append(
          stream,
          events.map((event) => serializer.encode(event)),
          revision === null ? NO_STREAM : revision,
          { commandId },
        );
        // A copy of this command in flight won the race: the next pass returns the stored result.
        if (append.replayed) continue;
        const after = events.reduce((s, event) => decider.evolve(s, event), state);
        return { stream, append, events, state: after, replayed: false, attempts: attempt };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt > this.#maxRetries) throw error;
      }
    }
  }
}
