/**
 * A decider per stream, in the style of Emmett: pure functions, no I/O, no clock. Time and ids
 * reach it through the command's metadata; the state of other streams that an invariant needs
 * reaches it as `context`.
 */
export interface Decider<Command, Event, State, Context = undefined> {
  decide(command: Command, state: State, context: Context): readonly Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** Metadata every command carries. */
export interface CommandMetadata {
  /** Client-chosen id; event ids are derived from it, so a retry is idempotent. */
  readonly commandId: string;
  /** The decision time (ISO 8601, UTC), passed in: deciders never read a clock. */
  readonly now: string;
}
