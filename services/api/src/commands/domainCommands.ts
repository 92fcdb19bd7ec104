import { createRecordVerifier } from '@ratsfach/crypto';
import {
  ConflictError,
  decodeEvent,
  deciders,
  DomainErrorCode,
  encodeEvent,
  isRatsfachError,
  loadContext,
  parseStreamName,
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

type Kind = keyof typeof deciders;

const serializer = { encode: encodeEvent, decode: decodeEvent };

const deciderOf = (kind: Kind): AnyDecider => deciders[kind] as unknown as AnyDecider;

const chainOf = (state: unknown): ChainHeadView => {
  const chain = (state as { chain?: { length: number; head: Uint8Array } }).chain;
  return chain === undefined
    ? { length: 0, hash: '' }
    : { length: chain.length, hash: Buffer.from(chain.head).toString('hex') };
};

/** Folded streams kept between commands (the most recently used ones). */
const defaultCachedStreams = 1_024;

interface Folded {
  readonly state: unknown;
  /** The revision of the last event folded in. */
  readonly revision: bigint;
}

export interface DomainCommandsOptions {
  /** How many folded streams are kept to be read on from their last revision (default 1024). */
  readonly cachedStreams?: number;
}

/**
 * Runs domain commands against the event store: the stream the command names, its decider, the
 * context of the other streams it needs (read fresh on every attempt) and the real record
 * verifier, through the event store's CommandHandler (idempotent by command id, retried on a
 * concurrent append). A record that does not extend its chain's head comes back as the domain's
 * ConflictError RATSFACH_DOMAIN_CHAIN_STALE with `current` = the head now, so the caller can
 * re-sign against it.
 *
 * Context streams are folded on from where they were last folded: events are immutable and
 * streams append-only, so only the events after the remembered revision are read. Nearly every
 * command needs the tenant stream, which grows with every heartbeat; without this each command
 * would read and fold it whole.
 */
export class DomainCommands {
  readonly #store: EventStore;
  readonly #handlers: ReadonlyMap<
    Kind,
    CommandHandler<DomainCommand, DomainEvent, unknown, unknown>
  >;
  readonly #verifier = createRecordVerifier();
  readonly #folded = new Map<string, Folded>();
  readonly #cachedStreams: number;

  constructor(store: EventStore, options: DomainCommandsOptions = {}) {
    this.#store = store;
    this.#cachedStreams = options.cachedStreams ?? defaultCachedStreams;
    this.#handlers = new Map(
      (Object.keys(deciders) as Kind[]).map((kind) => [
        kind,
        new CommandHandler<DomainCommand, DomainEvent, unknown, unknown>({
          store,
          decider: deciderOf(kind),
          serializer,
          // The handler has just folded the command's own stream: its state is not read again.
          loadContext: (command, state, stream) =>
            loadContext(command, this.#verifier, (name) =>
              name === stream ? Promise.resolve(state) : this.state(name),
            ),
        }),
      ]),
    );
  }

  /** The folded state of a stream (its decider's initial state when it does not exist). */
  async state(stream: string): Promise<unknown> {
    const decider = deciderOf(parseStreamName(stream).kind as Kind);
    const cached = this.#folded.get(stream);
    let state = cached?.state ?? decider.initialState();
    let revision = cached?.revision ?? null;
    for await (const recorded of this.#store.readStream(
      stream,
      revision === null ? {} : { fromRevision: revision + 1n },
    )) {
      state = decider.evolve(state, decodeEvent(recorded));
      revision = recorded.revision;
    }
    if (revision !== null) this.#remember(stream, { state, revision });
    return state;
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
    const pending = new Map<string, unknown>();
    const stateOf = async (stream: string): Promise<unknown> =>
      pending.has(stream) ? pending.get(stream) : this.state(stream);
    for (const command of commands) {
      const stream = streamOfCommand(command);
      const decider = deciderOf(routeCommand(command).kind);
      const context = await loadContext(command, this.#verifier, stateOf);
      const state = await stateOf(stream);
      const events = decider.decide(command, state, context);
      pending.set(
        stream,
        events.reduce((s, event) => decider.evolve(s, event), state),
      );
    }
  }

  async run(
    command: DomainCommand,
  ): Promise<CommandResult<DomainEvent, unknown> & { head: ChainHeadView }> {
    const stream = streamOfCommand(command);
    const handler = this.#handlers.get(routeCommand(command).kind)!;
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

  /** Keeps a fold unless a concurrent one got further; drops the least recently used. */
  #remember(stream: string, folded: Folded): void {
    const known = this.#folded.get(stream);
    if (known !== undefined && known.revision > folded.revision) return;
    this.#folded.delete(stream);
    this.#folded.set(stream, folded);
    if (this.#folded.size > this.#cachedStreams) {
      this.#folded.delete(this.#folded.keys().next().value!);
    }
  }
}
