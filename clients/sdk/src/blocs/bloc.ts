/**
 * BLoC style: events go in through `add`, are handled one at a time, and each handler emits
 * new immutable states that subscribers receive.
 */
export abstract class Bloc<Event, State extends object> {
  private current: State;
  private readonly listeners = new Set<(state: State) => void>();
  private queue: Promise<void> = Promise.resolve();
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

  /** Queues an event; resolves once it has been handled. */
  add(event: Event): Promise<void> {
    const handled = this.queue.then(() => this.on(event));
    this.queue = handled.catch(() => undefined);
    return handled;
  }

  dispose(): void {
    for (const dispose of this.disposers.splice(0)) dispose();
    this.listeners.clear();
  }

  protected abstract on(event: Event): Promise<void>;

  protected emit(change: Partial<State>): void {
    this.current = Object.freeze({ ...this.current, ...change });
    for (const listener of this.listeners) listener(this.current);
  }
}

/** The message of an error for a state's `error` field. */
export const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
