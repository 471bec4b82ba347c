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

export interface OutboxStorage {
  load(): Promise<OutboxEntry[]>;
  save(entry: OutboxEntry): Promise<void>;
  remove(clientId: string): Promise<void>;
}

export class MemoryOutboxStorage implements OutboxStorage {
  private readonly entries = new Map<string, OutboxEntry>();
  async load() { return [...this.entries.values()]; }
  async save(entry: OutboxEntry) { this.entries.set(entry.client_id, entry); }
  async remove(clientId: string) { this.entries.delete(clientId); }
}

/** Outbox storage over any string key-value store with the Web Storage interface (e.g. `localStorage`). */
export class KeyValueOutboxStorage implements OutboxStorage {
  constructor(
    private readonly store: { getItem(key: string): string | null; setItem(key: string, value: string): void },
    private readonly key = 'confab.outbox',
  ) {}
  async load(): Promise<OutboxEntry[]> {
    return Object.values(JSON.parse(this.store.getItem(this.key) ?? '{}') as Record<string, OutboxEntry>);
  }
  async save(entry: OutboxEntry) { this.update((all) => { all[entry.client_id] = entry; }); }
  async remove(clientId: string) { this.update((all) => { delete all[clientId]; }); }
  private update(change: (all: Record<string, OutboxEntry>) => void) {
    const all = JSON.parse(this.store.getItem(this.key) ?? '{}') as Record<string, OutboxEntry>;
    change(all);
    this.store.setItem(this.key, JSON.stringify(all));
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

export class Outbox {
  private readonly storage: OutboxStorage;
  private readonly entriesById = new Map<string, OutboxEntry>();
  private readonly busyChats = new Set<string>();
  private readonly retryTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly listeners = new Set<(change: OutboxChange) => void>();
  private nextPosition = 0;
  private stopped = false;

  constructor(private readonly options: OutboxOptions) {
    this.storage = options.storage ?? new MemoryOutboxStorage();
  }

  /** Loads what a previous session left (a send in flight then is pending again) and starts sending. */
  async load(): Promise<void> {
    for (const stored of await this.storage.load()) {
      const entry = { ...stored, status: stored.status === 'sending' ? 'pending' : stored.status } as OutboxEntry;
      this.entriesById.set(entry.client_id, entry);
      this.nextPosition = Math.max(this.nextPosition, entry.position + 1);
    }
    this.changed();
    this.wake();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
  }

  subscribe(listener: (change: OutboxChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every entry (or a chat's), in send order. */
  entries(chatId?: string): OutboxEntry[] {
    return [...this.entriesById.values()]
      .filter((e) => chatId === undefined || e.chat_id === chatId)
      .sort((a, b) => a.position - b.position);
  }

  /** Queues a message; it is shown at once (the returned entry) and sent as soon as possible. */
  async enqueue(chatId: string, request: SendMessageRequest): Promise<OutboxEntry> {
    const clientId = request.client_id ?? (this.options.newClientId ?? (() => globalThis.crypto.randomUUID()))();
    const entry: OutboxEntry = {
      client_id: clientId,
      chat_id: chatId,
      request: { ...request, client_id: clientId },
      status: 'pending',
      attempts: 0,
      created_at: new Date().toISOString(),
      position: this.nextPosition++,
    };
    this.entriesById.set(clientId, entry);
    await this.storage.save(entry);
    this.changed();
    this.pump(chatId);
    return entry;
  }

  /** Sends a refused entry again (e.g. after the user fixed the cause). */
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

  private pump(chatId: string): void {
    if (this.stopped || this.busyChats.has(chatId) || this.retryTimers.has(chatId) || !this.options.canSend()) return;
    const next = this.entries(chatId).find((e) => e.status === 'pending');
    if (!next) return;
    this.busyChats.add(chatId);
    void this.deliver(next).finally(() => {
      this.busyChats.delete(chatId);
      this.pump(chatId);
    });
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const sending: OutboxEntry = { ...entry, status: 'sending', attempts: entry.attempts + 1 };
    await this.put(sending);
    let message: MessageModel;
    try {
      message = await this.options.send(entry.chat_id, sending.request);
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
    for (const listener of this.listeners) listener({ kind: 'delivered', entry: sending, message });
    this.changed();
  }

  private retryLater(chatId: string, attempts: number, error: unknown): void {
    // Offline: wait for wake(). Online (rate limited, unavailable, a timeout): back off.
    if (!this.options.canSend()) return;
    const hinted = error instanceof ConfabError ? error.retryAfterMs : undefined;
    const delay = hinted ?? fullJitterDelay(attempts, this.options.backoff ?? defaultBackoff, this.options.random);
    this.retryTimers.set(chatId, setTimeout(() => {
      this.retryTimers.delete(chatId);
      this.pump(chatId);
    }, delay));
  }

  private async put(entry: OutboxEntry): Promise<void> {
    this.entriesById.set(entry.client_id, entry);
    await this.storage.save(entry);
    this.changed();
  }

  private changed(): void {
    const entries = this.entries();
    for (const listener of this.listeners) listener({ kind: 'changed', entries });
  }
}
