/**
 * BLoC style: events go in through `add`, are handled in order within their lane, and each
 * handler emits new immutable states that subscribers receive.
 *
 * Lanes: a store names the lane of each event (`laneOf`); a lane handles its events one at a
 * time, in the order they were added, and lanes do not wait for each other. Events whose
 * handlers wait on the network (a page of history, a read mark, with REST's retries: up to
 * five attempts of 15 s against a server that hangs) go in lanes of their own, so that what the
 * user does (a send kept in the outbox) is never held behind them. By default every event is
 * in one lane, as in a plain BLoC.
 */
export abstract class Bloc<Event, State extends object> {
  private current: State;
  private readonly listeners = new Set<(state: State) => void>();
  /** The tail of each lane's queue. */
  private readonly lanes = new Map<string, Promise<void>>();
  protected readonly disposers: (() => void)[] = [];

  constructor(initial: State) {
    this.current = Object.freeze(initial);
  }

  get state(): State {
    return this.current;
  }

  /** Calls `listener` with the current state and every later one; returns the unsubscribe. */
  subscribe(listener: (state: State) => void): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => this.listeners.delete(listener);
  }

  /** Queues an event in its lane; resolves once it has been handled. */
  add(event: Event): Promise<void> {
    const lane = this.laneOf(event);
    const handled = (this.lanes.get(lane) ?? Promise.resolve()).then(() => this.on(event));
    this.lanes.set(lane, handled.catch(() => undefined));
    return handled;
  }

  dispose(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
    this.listeners.clear();
  }

  /** The lane an event is handled in: one at a time and in order within it. */
  protected laneOf(_event: Event): string {
    return 'events';
  }

  protected abstract on(event: Event): Promise<void>;

  protected emit(change: Partial<State>): void {
    this.current = Object.freeze({ ...this.current, ...change });
    for (const listener of this.listeners) listener(this.current);
  }
}

/** The message of an error for a state's `error` field. */
export const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
