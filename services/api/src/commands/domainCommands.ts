import { createRecordVerifier } from '@ratsfach/crypto';
import {
  ConflictError,
  decodeEvent,
  deciders,
  DomainErrorCode,
  encodeEvent,
  foldStream,
  isRatsfachError,
  loadContext,
  routeCommand,
  streamOfCommand,
  type DomainCommand,
  type DomainEvent,
} from '@ratsfach/domain';
import { CommandHandler, type CommandResult, type EventStore } from '@ratsfach/event-store';

/** A record chain's head as the API reports it: length and the hex hash of its last record. */
export interface ChainHeadView {
  readonly length: number;
  /** 128 hex digits; '' for an empty chain. */
  readonly hash: string;
}

type AnyDecider = ConstructorParameters<
  typeof CommandHandler<DomainCommand, DomainEvent, unknown, unknown>
>[0]['decider'];

const serializer = { encode: encodeEvent, decode: decodeEvent };

const chainOf = (state: unknown): ChainHeadView => {
  const chain = (state as { chain?: { length: number; head: Uint8Array } }).chain;
  return chain === undefined
    ? { length: 0, hash: '' }
    : { length: chain.length, hash: Buffer.from(chain.head).toString('hex') };
};

/**
 * Runs domain commands against the event store: the stream the command names, its decider, the
 * context of the other streams it needs (read fresh on every attempt) and the real record
 * verifier, through the event store's CommandHandler (idempotent by command id, retried on a
 * concurrent append). A record that does not extend its chain's head comes back as the domain's
 * ConflictError RATSFACH_DOMAIN_CHAIN_STALE with `current` = the head now, so the caller can
 * re-sign against it.
 */
export class DomainCommands {
  readonly #store: EventStore;
  readonly #handlers = new Map<
    string,
    CommandHandler<DomainCommand, DomainEvent, unknown, unknown>
  >();
  readonly #verifier = createRecordVerifier();

  constructor(store: EventStore) {
    this.#store = store;
  }

  /** The folded state of a stream (its decider's initial state when it does not exist). */
  async state(stream: string): Promise<unknown> {
    const events: DomainEvent[] = [];
    for await (const recorded of this.#store.readStream(stream)) events.push(decodeEvent(recorded));
    return foldStream(stream, events);
  }

  /** The record chain head of a stream. */
  async head(stream: string): Promise<ChainHeadView> {
    return chainOf(await this.state(stream));
  }

  /**
   * Decides `commands` in order, each against the stored streams plus the events the ones
   * before it decided, and appends nothing: throws the first refusal. For steps that must be
   * accepted together (a tenant's genesis and its first admin device) before either is written.
   */
  async check(commands: readonly DomainCommand[]): Promise<void> {
    const pending = new Map<string, DomainEvent[]>();
    const stateOf = async (stream: string): Promise<unknown> => {
      const events: DomainEvent[] = [];
      for await (const recorded of this.#store.readStream(stream)) {
        events.push(decodeEvent(recorded));
      }
      return foldStream(stream, [...events, ...(pending.get(stream) ?? [])]);
    };
    for (const command of commands) {
      const stream = streamOfCommand(command);
      const decider = deciders[routeCommand(command).kind] as unknown as AnyDecider;
      const context = await loadContext(command, this.#verifier, stateOf);
      const events = decider.decide(command, await stateOf(stream), context);
      pending.set(stream, [...(pending.get(stream) ?? []), ...events]);
    }
  }

  async run(
    command: DomainCommand,
  ): Promise<CommandResult<DomainEvent, unknown> & { head: ChainHeadView }> {
    const stream = streamOfCommand(command);
    const kind = routeCommand(command).kind;
    let handler = this.#handlers.get(kind);
    if (handler === undefined) {
      handler = new CommandHandler<DomainCommand, DomainEvent, unknown, unknown>({
        store: this.#store,
        decider: deciders[kind] as unknown as AnyDecider,
        serializer,
        loadContext: (c) => loadContext(c, this.#verifier, (name) => this.state(name)),
      });
      this.#handlers.set(kind, handler);
    }
    try {
      const result = await handler.handle(stream, command);
      return { ...result, head: chainOf(result.state) };
    } catch (error) {
      if (isRatsfachError(error) && error.code === DomainErrorCode.chainStale) {
        const head = await this.head(stream);
        throw new ConflictError(error.code, error.message, {
          ...(error.hint ? { hint: error.hint } : {}),
          details: { ...error.details, current: { stream, length: head.length, hash: head.hash } },
          cause: error,
        });
      }
      throw error;
    }
  }
}
