// The SDK's entry point: the REST client, the self-recovering connection, the cache and the
// outbox, kept consistent. Live events and since_version pages are applied to the cache by
// version, and after every reconnect each chat the app has open or cached is resynchronised
// from the version it had reached, so nothing that happened while away is missed.
import { Cache, MemoryCache, Presence } from './cache.js';
import { Connection, ConnectionState, WebSocketFactory } from './connection.js';
import { applyDeletion, chatWithNewMessage, chatWithRead, maxVersion } from './merge.js';
import { Outbox, OutboxChange, OutboxStorage } from './outbox.js';
import { RestClient, RestOptions } from './rest.js';
import type { Backoff } from './backoff.js';
import type { ChatMemberModel, ChatModel, MessageModel, SendMessageRequest, ServerEvent, ServerEventFrames } from './types.js';

export interface ConfabClientOptions extends Omit<RestOptions, 'token'> {
  token: string;
  /** The signed-in user's id (own messages do not count as unread). */
  userId?: string;
  webSocketFactory?: WebSocketFactory;
  cache?: Cache;
  outboxStorage?: OutboxStorage;
  reconnectBackoff?: Backoff;
  heartbeatMs?: number;
  requestTimeoutMs?: number;
  syncPageLimit?: number;
}

/** What changed, for the stores to rebuild their states from. */
export type ClientChange =
  | { kind: 'messages'; chatId: string; messages: MessageModel[]; removedIds: string[] }
  | { kind: 'chats'; chats: ChatModel[] }
  | { kind: 'chatRemoved'; chatId: string }
  | { kind: 'members'; chatId: string; members: ChatMemberModel[]; removedUserIds: string[] }
  | { kind: 'read'; chatId: string; userId: string; lastReadSeq: number }
  | { kind: 'typing'; chatId: string; userId: string; isTyping: boolean }
  | { kind: 'presence'; userId: string; presence: Presence }
  | { kind: 'resynced'; chatId: string }
  | { kind: 'reconnected' };

type Frame<T extends keyof ServerEventFrames> = Extract<ServerEventFrames[T], { data: unknown }>['data'];

export class ConfabClient {
  readonly rest: RestClient;
  readonly connection: Connection;
  readonly cache: Cache;
  readonly outbox: Outbox;
  userId: string | undefined;
  private events: Promise<void> = Promise.resolve();
  /** Per chat, the version up to which every change has been applied (kept in memory so a reconnect can snapshot it at once). */
  private readonly versions = new Map<string, number>();
  private readonly listeners = new Set<(change: ClientChange) => void>();
  private readonly syncPageLimit: number;
  private started = false;

  constructor(options: ConfabClientOptions) {
    this.rest = new RestClient(options);
    this.userId = options.userId;
    this.cache = options.cache ?? new MemoryCache();
    this.syncPageLimit = options.syncPageLimit ?? 200;
    this.connection = new Connection({
      url: this.rest.webSocketUrl,
      token: options.token,
      webSocketFactory: options.webSocketFactory,
      backoff: options.reconnectBackoff,
      heartbeatMs: options.heartbeatMs,
      requestTimeoutMs: options.requestTimeoutMs,
      random: options.random,
    });
    this.outbox = new Outbox({
      storage: options.outboxStorage,
      canSend: () => this.connection.state === 'online',
      send: async (chatId, request) => {
        return (await this.connection.request('message.send', { ...request, chat_id: chatId })).message;
      },
      random: options.random,
    });
    this.outbox.subscribe((change) => this.onOutbox(change));
    // One event at a time, in the order the server sent them.
    this.connection.onEvent((event) => {
      this.events = this.events.then(() => this.onEvent(event)).catch(() => undefined);
    });
    this.connection.onOpen(({ reconnected }) => this.onOpen(reconnected));
  }

  /** Loads the cached versions and the outbox, then connects. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const [chatId, version] of Object.entries(await this.cache.syncVersions())) this.noteVersion(chatId, version);
    if (!this.userId) this.userId = (await this.rest.me()).id;
    await this.outbox.load();
    this.connection.start();
    // In a browser, coming back online ends the back-off wait at once.
    const browser = globalThis as { addEventListener?: (type: string, listener: () => void) => void };
    browser.addEventListener?.('online', this.onBrowserOnline);
  }

  private readonly onBrowserOnline = () => this.connection.reconnectNow();

  stop(): void {
    const browser = globalThis as { removeEventListener?: (type: string, listener: () => void) => void };
    browser.removeEventListener?.('online', this.onBrowserOnline);
    this.outbox.stop();
    this.connection.stop();
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  subscribe(listener: (change: ClientChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends a message through the outbox: shown at once, delivered once. */
  send(chatId: string, request: SendMessageRequest) {
    return this.outbox.enqueue(chatId, request);
  }

  /** Stores messages fetched by the app (pages) and advances the chat's sync point when it had none. */
  async applyPage(chatId: string, messages: MessageModel[]): Promise<void> {
    await this.cache.putMessages(chatId, messages);
    // A page holds the latest state of its messages: syncing from its highest version misses
    // nothing about them, and the rest of the chat is not in the window.
    if (!this.versions.has(chatId)) await this.advance(chatId, maxVersion(messages));
    this.emit({ kind: 'messages', chatId, messages, removedIds: [] });
  }

  /** Fetches every change of a chat after the version the client had reached, and applies it. */
  async resync(chatId: string, since = this.versions.get(chatId) ?? 0): Promise<void> {
    for (let version = since; ;) {
      const page = this.connection.state === 'online'
        ? await this.connection.request('sync', { chat_id: chatId, since_version: version, limit: this.syncPageLimit })
        : await this.rest.sync(chatId, version, this.syncPageLimit);
      const hidden = page.hidden ?? [];
      await this.cache.putMessages(chatId, page.messages);
      if (hidden.length) await this.cache.removeMessages(chatId, hidden.map((h) => h.message_id));
      this.emit({ kind: 'messages', chatId, messages: page.messages, removedIds: hidden.map((h) => h.message_id) });
      const reached = page.has_more ? maxVersion([...page.messages, ...hidden], version) : Math.max(page.version, version);
      await this.advance(chatId, reached);
      if (!page.has_more) break;
      version = reached;
    }
    this.emit({ kind: 'resynced', chatId });
  }

  /**
   * Every chat the app has open or cached has a sync point (set by its first page or by the
   * cache): on every open, the first after a reload included, each is synced from it.
   */
  private onOpen(reconnected: boolean): void {
    // Snapshot the versions before any live event of the new connection moves them.
    const since = new Map(this.versions);
    this.outbox.wake();
    if (reconnected) this.emit({ kind: 'reconnected' });
    for (const [chatId, version] of since) {
      this.resync(chatId, version).catch(() => {
        // The connection dropped again: the next open resyncs from the same point.
      });
    }
  }

  private onOutbox(change: OutboxChange): void {
    if (change.kind !== 'delivered') return;
    // A repeated client_id is acked without a new event: the ack is the only copy we get.
    void this.applyMessages(change.message.chat_id, [change.message]);
  }

  private async applyMessages(chatId: string, messages: MessageModel[]): Promise<void> {
    await this.cache.putMessages(chatId, messages);
    this.emit({ kind: 'messages', chatId, messages, removedIds: [] });
  }

  private async onEvent(event: ServerEvent): Promise<void> {
    switch (event.type) {
      case 'message.new':
      case 'message.updated': {
        const { message } = event.data as Frame<'message.new'>;
        this.noteVersion(message.chat_id, message.version);
        await this.applyMessages(message.chat_id, [message]);
        if (event.type === 'message.new') await this.chatGotMessage(message);
        await this.advance(message.chat_id, message.version);
        break;
      }
      case 'message.deleted': {
        const { chat_id, message_id, version } = event.data as Frame<'message.deleted'>;
        this.noteVersion(chat_id, version);
        const cached = await this.cache.messages(chat_id);
        const changed = applyDeletion(cached, message_id, version).filter((m) => m.id === message_id && m.is_deleted);
        await this.cache.putMessages(chat_id, changed);
        this.emit({ kind: 'messages', chatId: chat_id, messages: changed, removedIds: [] });
        await this.advance(chat_id, version);
        break;
      }
      case 'message.hidden': {
        const { chat_id, message_id } = event.data as Frame<'message.hidden'>;
        await this.cache.removeMessages(chat_id, [message_id]);
        this.emit({ kind: 'messages', chatId: chat_id, messages: [], removedIds: [message_id] });
        break;
      }
      case 'chat.created':
      case 'chat.updated': {
        const { chat } = event.data as Frame<'chat.created'>;
        await this.cache.putChats([chat]);
        this.emit({ kind: 'chats', chats: [chat] });
        break;
      }
      case 'chat.deleted': {
        const { chat_id } = event.data as Frame<'chat.deleted'>;
        await this.forgetChat(chat_id);
        break;
      }
      case 'member.added':
      case 'member.updated': {
        const { chat_id, member } = event.data as Frame<'member.added'>;
        await this.cache.putMembers(chat_id, [member]);
        this.emit({ kind: 'members', chatId: chat_id, members: [member], removedUserIds: [] });
        break;
      }
      case 'member.removed': {
        const { chat_id, user_id } = event.data as Frame<'member.removed'>;
        if (user_id === this.userId) return this.forgetChat(chat_id);
        await this.cache.removeMember(chat_id, user_id);
        this.emit({ kind: 'members', chatId: chat_id, members: [], removedUserIds: [user_id] });
        break;
      }
      case 'read.updated': {
        const { chat_id, user_id, last_read_seq } = event.data as Frame<'read.updated'>;
        await this.cache.putRead(chat_id, user_id, last_read_seq);
        if (user_id === this.userId) await this.chatRead(chat_id, last_read_seq);
        this.emit({ kind: 'read', chatId: chat_id, userId: user_id, lastReadSeq: last_read_seq });
        break;
      }
      case 'typing.update': {
        const { chat_id, user_id, is_typing } = event.data as Frame<'typing.update'>;
        this.emit({ kind: 'typing', chatId: chat_id, userId: user_id, isTyping: is_typing });
        break;
      }
      case 'presence.update': {
        const { user_id, online, last_seen_at } = event.data as Frame<'presence.update'>;
        const presence = { online, last_seen_at: last_seen_at ?? null };
        await this.cache.putPresence(user_id, presence);
        this.emit({ kind: 'presence', userId: user_id, presence });
        break;
      }
      default:
        break;
    }
  }

  private async chatGotMessage(message: MessageModel): Promise<void> {
    const chat = (await this.cache.chats()).find((c) => c.id === message.chat_id);
    if (!chat) return;
    const next = chatWithNewMessage(chat, message, this.userId);
    if (next === chat) return;
    await this.cache.putChats([next]);
    this.emit({ kind: 'chats', chats: [next] });
  }

  private async chatRead(chatId: string, lastReadSeq: number): Promise<void> {
    const chat = (await this.cache.chats()).find((c) => c.id === chatId);
    if (!chat) return;
    const next = chatWithRead(chat, lastReadSeq);
    if (next === chat) return;
    await this.cache.putChats([next]);
    this.emit({ kind: 'chats', chats: [next] });
  }

  private async forgetChat(chatId: string): Promise<void> {
    this.versions.delete(chatId);
    await this.cache.removeChat(chatId);
    this.emit({ kind: 'chatRemoved', chatId });
  }

  /** Live events of a chat arrive in version order on one connection. */
  private noteVersion(chatId: string, version: number): void {
    this.versions.set(chatId, Math.max(this.versions.get(chatId) ?? 0, version));
  }

  private async advance(chatId: string, version: number): Promise<void> {
    this.noteVersion(chatId, version);
    await this.cache.putSyncVersion(chatId, this.versions.get(chatId)!);
  }

  private emit(change: ClientChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
