// Messages the user sent that the server has not acknowledged yet. Each is shown at once with
// its client_id, kept in pluggable storage across a reload, sent again until acked or refused
// for good, one at a time and in order per chat. The server stores a client_id once per
// sender, so a send repeated after a lost ack lands exactly once.
import { Backoff, defaultBackoff, fullJitterDelay } from './backoff.js';
import { ConfabError, isTransient } from './errors.js';
import type { ErrorCode, MessageModel, SendMessageRequest } from './types.js';

export type OutboxStatus = 'pending' | 'sending' | 'failed';

export interface OutboxEntry {
  client_id: string;
  chat_id: string;
  request: SendMessageRequest;
  status: OutboxStatus;
  /** Why the server refused it (status `failed`). */
  error?: { code: ErrorCode; message: string };
  attempts: number;
  created_at: string;
  /** Orders the entries of a chat. */
  position: number;
}

/** Where a durable queue's entries live across a reload (the outbox's, the pending message actions'). */
export interface QueueStorage<E extends { client_id: string }> {
  load(): Promise<E[]>;
  save(entry: E): Promise<void>;
  remove(clientId: string): Promise<void>;
}

export type OutboxStorage = QueueStorage<OutboxEntry>;

export class MemoryOutboxStorage<E extends { client_id: string } = OutboxEntry> implements QueueStorage<E> {
  private readonly entries = new Map<string, E>();
  async load() { return [...this.entries.values()]; }
  async save(entry: E) { this.entries.set(entry.client_id, entry); }
  async remove(clientId: string) { this.entries.delete(clientId); }
}

/** Queue storage over any string key-value store with the Web Storage interface (e.g. `localStorage`). */
export class KeyValueOutboxStorage<E extends { client_id: string } = OutboxEntry> implements QueueStorage<E> {
  constructor(
    private readonly store: { getItem(key: string): string | null; setItem(key: string, value: string): void },
    private readonly key = 'confab.outbox',
  ) {}
  async load(): Promise<E[]> {
    return Object.values(JSON.parse(this.store.getItem(this.key) ?? '{}') as Record<string, E>);
  }
  async save(entry: E) { this.update((all) => { all[entry.client_id] = entry; }); }
  async remove(clientId: string) { this.update((all) => { delete all[clientId]; }); }
  private update(change: (all: Record<string, E>) => void) {
    const all = JSON.parse(this.store.getItem(this.key) ?? '{}') as Record<string, E>;
    change(all);
    this.store.setItem(this.key, JSON.stringify(all));
  }
}

/** What a durable queue's entries share: an id, a chat (each chat's queue runs in order), a status. */
export interface QueuedEntry {
  client_id: string;
  chat_id: string;
  status: OutboxStatus;
  error?: { code: ErrorCode; message: string };
  attempts: number;
  position: number;
}

export interface DurableQueueOptions<E extends QueuedEntry, R> {
  storage?: QueueStorage<E>;
  /** Carries one entry out; resolves with its result once the server has taken it. */
  run: (entry: E) => Promise<R>;
  /** Whether sending can be tried now; when not, entries wait for `wake()`. */
  canSend: () => boolean;
  backoff?: Backoff;
  random?: () => number;
}

export type QueueChange<E, R> =
  | { kind: 'changed'; entries: readonly E[] }
  | { kind: 'delivered'; entry: E; result: R };

/**
 * Entries kept in storage and carried out one at a time and in order per chat, until the
 * server takes them or refuses them for good: a lost connection or a transient error leaves an
 * entry pending (tried again on wake(), or after a back-off while online); any other refusal
 * marks it failed with the reason until it is retried or discarded.
 */
export class DurableQueue<E extends QueuedEntry, R> {
  protected readonly storage: QueueStorage<E>;
  private readonly entriesById = new Map<string, E>();
  private readonly busyChats = new Set<string>();
  private readonly retryTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly listeners = new Set<(change: QueueChange<E, R>) => void>();
  protected nextPosition = 0;
  private stopped = false;

  constructor(private readonly queueOptions: DurableQueueOptions<E, R>) {
    this.storage = queueOptions.storage ?? new MemoryOutboxStorage<E>();
  }

  /**
   * Loads what a previous session left (an entry in flight then is pending again) and starts
   * sending. Entries added before it (a send made while the client was starting) are newer than
   * any it finds, so they move behind them: each chat's order is the order the user acted in.
   */
  async load(): Promise<void> {
    const early = this.entries().map((e) => e.client_id);
    for (const stored of await this.storage.load()) {
      if (this.entriesById.has(stored.client_id)) continue;
      const entry = { ...stored, status: stored.status === 'sending' ? 'pending' : stored.status } as E;
      this.entriesById.set(entry.client_id, entry);
      this.nextPosition = Math.max(this.nextPosition, entry.position + 1);
    }
    const moved: E[] = [];
    for (const clientId of early) {
      const entry = this.entriesById.get(clientId);
      if (!entry) continue;
      const behind = { ...entry, position: this.nextPosition++ };
      this.entriesById.set(clientId, behind);
      moved.push(behind);
    }
    for (const entry of moved) if (this.entriesById.get(entry.client_id) === entry) await this.storage.save(entry);
    this.changed();
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
  }

  subscribe(listener: (change: QueueChange<E, R>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every entry (or a chat's), in order. */
  entries(chatId?: string): E[] {
    return [...this.entriesById.values()]
      .filter((e) => chatId === undefined || e.chat_id === chatId)
      .sort((a, b) => a.position - b.position);
  }

  /** Whether this queue holds the entry. */
  has(clientId: string): boolean {
    return this.entriesById.has(clientId);
  }

  /** Tries a refused entry again (e.g. after the user fixed the cause). */
  async retry(clientId: string): Promise<void> {
    const entry = this.entriesById.get(clientId);
    if (!entry || entry.status !== 'failed') return;
    await this.put({ ...entry, status: 'pending', error: undefined });
    this.pump(entry.chat_id);
  }

  /** Drops a refused (or not yet sent) entry for good. */
  async discard(clientId: string): Promise<void> {
    const entry = this.entriesById.get(clientId);
    if (!entry || entry.status === 'sending') return;
    this.entriesById.delete(clientId);
    await this.storage.remove(clientId);
    this.changed();
  }

  /** Tries every chat's queue now (called when the connection is back). */
  wake(): void {
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    for (const chatId of new Set(this.entries().map((e) => e.chat_id))) this.pump(chatId);
  }

  /** Keeps a new entry and starts on its chat's queue. */
  protected async add(entry: E): Promise<E> {
    this.entriesById.set(entry.client_id, entry);
    await this.storage.save(entry);
    this.changed();
    this.pump(entry.chat_id);
    return entry;
  }

  private pump(chatId: string): void {
    if (this.stopped || this.busyChats.has(chatId) || this.retryTimers.has(chatId) || !this.queueOptions.canSend()) return;
    const next = this.entries(chatId).find((e) => e.status === 'pending');
    if (!next) return;
    this.busyChats.add(chatId);
    void this.deliver(next).finally(() => {
      this.busyChats.delete(chatId);
      this.pump(chatId);
    });
  }

  private async deliver(entry: E): Promise<void> {
    const sending: E = { ...entry, status: 'sending', attempts: entry.attempts + 1 };
    await this.put(sending);
    let result: R;
    try {
      result = await this.queueOptions.run(sending);
    } catch (error) {
      if (isTransient(error)) {
        await this.put({ ...sending, status: 'pending' });
        this.retryLater(entry.chat_id, sending.attempts, error);
      } else {
        const refusal = error instanceof ConfabError
          ? { code: error.code, message: error.message }
          : { code: 'internal' as const, message: String(error) };
        await this.put({ ...sending, status: 'failed', error: refusal });
      }
      return;
    }
    this.entriesById.delete(entry.client_id);
    await this.storage.remove(entry.client_id);
    for (const listener of this.listeners) listener({ kind: 'delivered', entry: sending, result });
    this.changed();
  }

  private retryLater(chatId: string, attempts: number, error: unknown): void {
    // Offline: wait for wake(). Online (rate limited, unavailable, a timeout): back off.
    if (!this.queueOptions.canSend()) return;
    const hinted = error instanceof ConfabError ? error.retryAfterMs : undefined;
    const delay = hinted ?? fullJitterDelay(attempts, this.queueOptions.backoff ?? defaultBackoff, this.queueOptions.random);
    this.retryTimers.set(chatId, setTimeout(() => {
      this.retryTimers.delete(chatId);
      this.pump(chatId);
    }, delay));
  }

  private async put(entry: E): Promise<void> {
    this.entriesById.set(entry.client_id, entry);
    await this.storage.save(entry);
    this.changed();
  }

  private changed(): void {
    const entries = this.entries();
    for (const listener of this.listeners) listener({ kind: 'changed', entries });
  }
}

export interface OutboxOptions {
  storage?: OutboxStorage;
  /** Sends one message with its client_id (set in the request) and resolves with the stored message. */
  send: (chatId: string, request: SendMessageRequest) => Promise<MessageModel>;
  /** Whether sending can be tried now; when not, entries wait for `wake()`. */
  canSend: () => boolean;
  backoff?: Backoff;
  random?: () => number;
  newClientId?: () => string;
}

export type OutboxChange =
  | { kind: 'changed'; entries: readonly OutboxEntry[] }
  | { kind: 'delivered'; entry: OutboxEntry; message: MessageModel };

/** The messages the user sent that the server has not acknowledged yet. */
export class Outbox {
  private readonly queue: MessageQueue;

  constructor(private readonly options: OutboxOptions) {
    this.queue = new MessageQueue({
      storage: options.storage, canSend: options.canSend, backoff: options.backoff, random: options.random,
      run: (entry) => options.send(entry.chat_id, entry.request),
    });
  }

  load() { return this.queue.load(); }
  stop() { this.queue.stop(); }
  entries(chatId?: string) { return this.queue.entries(chatId); }
  has(clientId: string) { return this.queue.has(clientId); }
  retry(clientId: string) { return this.queue.retry(clientId); }
  discard(clientId: string) { return this.queue.discard(clientId); }
  wake() { this.queue.wake(); }

  subscribe(listener: (change: OutboxChange) => void): () => void {
    return this.queue.subscribe((change) => listener(change.kind === 'changed'
      ? change
      : { kind: 'delivered', entry: change.entry, message: change.result }));
  }

  /** Queues a message; it is shown at once (the returned entry) and sent as soon as possible. */
  enqueue(chatId: string, request: SendMessageRequest): Promise<OutboxEntry> {
    const clientId = request.client_id ?? (this.options.newClientId ?? (() => globalThis.crypto.randomUUID()))();
    return this.queue.enqueue({
      client_id: clientId,
      chat_id: chatId,
      request: { ...request, client_id: clientId },
      status: 'pending',
      attempts: 0,
      created_at: new Date().toISOString(),
    });
  }
}

class MessageQueue extends DurableQueue<OutboxEntry, MessageModel> {
  enqueue(entry: Omit<OutboxEntry, 'position'>): Promise<OutboxEntry> {
    return this.add({ ...entry, position: this.nextPosition++ });
  }
}
