// The SDK's entry point: the REST client, the self-recovering connection, the cache and the
// outbox, kept consistent. Live events and since_version pages are applied to the cache by
// version, and after every reconnect each chat the app has open or cached is resynchronised
// from the version it had reached, so nothing that happened while away is missed.
import { Backoff, defaultBackoff, fullJitterDelay } from './backoff.js';
import { Cache, MemoryCache, Presence } from './cache.js';
import { Connection, ConnectionState, WebSocketFactory } from './connection.js';
import { ConfabError, FrameTooLargeError, isTransient } from './errors.js';
import {
  chatWithChangedLastMessage, chatWithMemberCount, chatWithMyMembership, chatWithNewMessage, chatWithRead, deletedMessage,
  maxVersion, messageWithPoll, mayHaveTakenBackMyReaction, withMyReactions,
} from './merge.js';
import { LateChanges } from './late-changes.js';
import { MessageAction, PendingAction, PendingActions, PendingActionStorage } from './message-actions.js';
import { Outbox, OutboxChange, OutboxStorage } from './outbox.js';
import { RestClient, RestOptions } from './rest.js';
import type {
  ChatMemberModel, ChatModel, MessageModel, SendMessageRequest, ServerEvent, ServerEventFrames, UserModel,
} from './types.js';

export interface ConfabClientOptions extends Omit<RestOptions, 'token'> {
  token: string;
  /** The signed-in user's id (own messages do not count as unread). */
  userId?: string;
  webSocketFactory?: WebSocketFactory;
  cache?: Cache;
  outboxStorage?: OutboxStorage;
  /** Where edits, deletions and reactions not yet taken by the server are kept (as the outbox's sends). */
  actionStorage?: PendingActionStorage;
  reconnectBackoff?: Backoff;
  heartbeatMs?: number;
  requestTimeoutMs?: number;
  /** A connection attempt not open within this is given up and tried again (10 s by default). */
  connectTimeoutMs?: number;
  syncPageLimit?: number;
  /** The server's WebSocket frame limit (`limits.frame_bytes`, 64 KiB by default): a larger send goes over REST. */
  maxFrameBytes?: number;
}

/** Live events waiting behind a gap in a chat's versions before the chat is resynced to close it. */
const gapResyncAfter = 50;

/** What changed, for the stores to rebuild their states from. */
export type ClientChange =
  | { kind: 'messages'; chatId: string; messages: MessageModel[]; removedIds: string[] }
  /**
   * A message deleted for everyone (message.deleted), told even when the cache does not hold it
   * (then no `messages` change follows): a view showing an older message it fetched itself, a
   * reply's quote or a preview, follows it from this.
   */
  | { kind: 'messageDeleted'; chatId: string; messageId: string; version: number }
  /**
   * A message changed (message.updated), told as `messageDeleted` is: also when the cache does
   * not hold it, whose changes do not enter the cache (a message hidden on an earlier visit
   * would come back) nor a `messages` change.
   */
  | { kind: 'messageUpdated'; chatId: string; message: MessageModel }
  | { kind: 'chats'; chats: ChatModel[] }
  | { kind: 'chatRemoved'; chatId: string }
  | { kind: 'members'; chatId: string; members: ChatMemberModel[]; removedUserIds: string[] }
  | { kind: 'read'; chatId: string; userId: string; lastReadSeq: number }
  | { kind: 'typing'; chatId: string; userId: string; isTyping: boolean }
  | { kind: 'presence'; userId: string; presence: Presence }
  /** A user's new profile (user.updated): another member's, or the signed-in user's own (a rename on any device). */
  | { kind: 'user'; user: UserModel }
  | { kind: 'resynced'; chatId: string }
  | { kind: 'reconnected' };

type Frame<T extends keyof ServerEventFrames> = Extract<ServerEventFrames[T], { data: unknown }>['data'];

export class ConfabClient {
  readonly rest: RestClient;
  readonly connection: Connection;
  readonly cache: Cache;
  readonly outbox: Outbox;
  /** Edits, deletions and reactions made and not yet taken by the server (offline, or refused). */
  readonly actions: PendingActions;
  userId: string | undefined;
  private events: Promise<void> = Promise.resolve();
  /**
   * Per chat, the version up to which every change has been received (PROTOCOL.md: "a client
   * that has seen everything up to version V syncs with since_version=V"): the next
   * since_version, kept in the cache too. It moves over sync pages, and over live events only
   * once every version before theirs has come: the nodes of a cluster may deliver one chat's
   * changes out of version order, so a version seen does not mean the ones below it were.
   */
  private readonly versions = new Map<string, number>();
  /** Per chat, the versions of live events seen above its sync point, not yet joined on to it. */
  private readonly ahead = new Map<string, Set<number>>();
  /**
   * The chats being resynced since the connection opened: their sync point waits for the
   * resync, since the changes between it and their live events may not have arrived yet.
   */
  private readonly resyncing = new Set<string>();
  /** Changes to messages the cache does not hold yet, and the messages the user hid. */
  private readonly lateChanges = new LateChanges();
  /** Ended when a newer connection's resyncs take over, or on stop. */
  private resyncRound = new ResyncRound();
  private readonly listeners = new Set<(change: ClientChange) => void>();
  private readonly tokenRefusedListeners = new Set<() => void>();
  private readonly syncPageLimit: number;
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private started = false;
  private ended = false;
  private refused = false;

  constructor(options: ConfabClientOptions) {
    this.rest = new RestClient(options);
    this.userId = options.userId;
    this.cache = options.cache ?? new MemoryCache();
    this.syncPageLimit = options.syncPageLimit ?? 200;
    this.backoff = options.backoff ?? defaultBackoff;
    this.random = options.random ?? Math.random;
    this.connection = new Connection({
      url: this.rest.webSocketUrl,
      token: options.token,
      webSocketFactory: options.webSocketFactory,
      backoff: options.reconnectBackoff,
      heartbeatMs: options.heartbeatMs,
      requestTimeoutMs: options.requestTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      random: options.random,
      maxFrameBytes: options.maxFrameBytes,
      checkToken: () => this.tokenAccepted(),
    });
    this.outbox = new Outbox({
      storage: options.outboxStorage,
      canSend: () => this.connection.state === 'online',
      send: (chatId, request) => this.deliver(chatId, request),
      random: options.random,
    });
    this.outbox.subscribe((change) => this.onOutbox(change));
    this.actions = new PendingActions({
      storage: options.actionStorage,
      canSend: () => this.connection.state === 'online',
      run: (entry) => this.perform(entry),
      backoff: options.backoff,
      random: options.random,
    });
    // One event at a time, in the order the server sent them.
    this.connection.onEvent((event) => {
      this.events = this.events.then(() => this.onEvent(event)).catch(() => undefined);
    });
    this.connection.onOpen(({ reconnected }) => this.onOpen(reconnected));
    this.connection.onFinalClose(() => this.tokenRefused());
    this.rest.onUnauthorized(() => this.tokenRefused());
  }

  /** Loads the cached versions and the outbox, then connects. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const [chatId, version] of Object.entries(await this.cache.syncVersions())) this.versions.set(chatId, version);
    if (!this.userId) this.userId = (await this.rest.me()).id;
    await this.outbox.load();
    await this.actions.load();
    this.connection.start();
    // In a browser, coming back online ends the back-off wait at once.
    const browser = globalThis as { addEventListener?: (type: string, listener: () => void) => void };
    browser.addEventListener?.('online', this.onBrowserOnline);
  }

  private readonly onBrowserOnline = () => this.connection.reconnectNow();

  stop(): void {
    this.ended = true;
    const browser = globalThis as { removeEventListener?: (type: string, listener: () => void) => void };
    browser.removeEventListener?.('online', this.onBrowserOnline);
    this.resyncRound.end();
    this.outbox.stop();
    this.actions.stop();
    this.connection.stop();
  }

  get state(): ConnectionState {
    return this.connection.state;
  }

  subscribe(listener: (change: ClientChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called once when the server refuses the token (expired or revoked): the connection was
   * closed for good or its upgrade refused with 401, or a REST call was answered 401. The
   * client has stopped; the app signs the user in again. A listener added after that is called at once.
   */
  onTokenRefused(listener: () => void): () => void {
    if (this.refused) listener();
    else this.tokenRefusedListeners.add(listener);
    return () => this.tokenRefusedListeners.delete(listener);
  }

  /** Sends a message through the outbox: shown at once, delivered once. */
  send(chatId: string, request: SendMessageRequest) {
    return this.outbox.enqueue(chatId, request);
  }

  /** Edits, deletes or reacts to a message through the pending actions: shown at once, carried out once the server can take it. */
  act(chatId: string, messageId: string, action: MessageAction) {
    return this.actions.enqueue(chatId, messageId, action);
  }

  /** Stores messages fetched by the app (pages) and advances the chat's sync point when it had none. */
  async applyPage(chatId: string, messages: MessageModel[]): Promise<void> {
    // A page holds the latest state of its messages but for the changes that overtook it, which
    // the client has: syncing from its highest version misses nothing about them, and the rest
    // of the chat is not in the window.
    if (!this.versions.has(chatId)) await this.advance(chatId, maxVersion(messages));
    await this.applyMessages(chatId, messages);
  }

  /** Fetches every change of a chat after the version the client had reached, and applies it. */
  async resync(chatId: string, since = this.versions.get(chatId) ?? 0): Promise<void> {
    for (let version = since; ;) {
      const page = this.connection.state === 'online'
        ? await this.connection.request('sync', { chat_id: chatId, since_version: version, limit: this.syncPageLimit })
        : await this.rest.sync(chatId, version, this.syncPageLimit);
      const hidden = page.hidden ?? [];
      await this.applyMessages(chatId, page.messages);
      if (hidden.length) await this.hideMessages(chatId, hidden.map((h) => h.message_id));
      const reached = page.has_more ? maxVersion([...page.messages, ...hidden], version) : Math.max(page.version, version);
      await this.advance(chatId, reached);
      if (!page.has_more) break;
      version = reached;
    }
    this.emit({ kind: 'resynced', chatId });
  }

  /**
   * A chat's member list as the server has it now, every page, into the cache (members gone
   * since are dropped) with each member's read position (their read receipt, unless they hide
   * it), and told to the stores: what changed while the client was away comes with no event.
   */
  async refreshMembers(chatId: string): Promise<ChatMemberModel[]> {
    let members: ChatMemberModel[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.rest.listMembers(chatId, { limit: 200, cursor });
      members = members.concat(page.members);
      cursor = page.next_cursor;
    } while (cursor !== null);
    const listed = new Set(members.map((m) => m.user.id));
    const gone = (await this.cache.members(chatId)).map((m) => m.user.id).filter((id) => !listed.has(id));
    for (const userId of gone) await this.cache.removeMember(chatId, userId);
    await this.cache.putMembers(chatId, members);
    for (const { user, last_read_seq } of members) if (last_read_seq !== null) await this.cache.putRead(chatId, user.id, last_read_seq);
    this.emit({ kind: 'members', chatId, members, removedUserIds: gone });
    return members;
  }

  /** Drops a chat the user no longer has (left, removed, deleted) from the cache and the stores. */
  async forgetChat(chatId: string): Promise<void> {
    this.versions.delete(chatId);
    for (const action of this.actions.entries(chatId)) await this.actions.discard(action.client_id);
    this.ahead.delete(chatId);
    this.resyncing.delete(chatId);
    await this.cache.removeChat(chatId);
    this.emit({ kind: 'chatRemoved', chatId });
  }

  /**
   * Every chat the app has open or cached has a sync point (set by its first page or by the
   * cache): on every open, the first after a reload included, each is synced from it, and its
   * live events move it only once that sync is done.
   */
  private onOpen(reconnected: boolean): void {
    this.resyncRound.end();
    const round = new ResyncRound();
    this.resyncRound = round;
    this.resyncing.clear();
    for (const chatId of this.versions.keys()) this.resyncing.add(chatId);
    this.outbox.wake();
    this.actions.wake();
    if (reconnected) this.emit({ kind: 'reconnected' });
    for (const chatId of this.resyncing) void this.catchUp(chatId, round);
  }

  /**
   * Resyncs a chat until it is done: a failure while the connection stays up (rate_limited,
   * unavailable) is tried again after a back-off; a dropped connection leaves it to the next
   * open. A chat the server no longer shows the user (404) is forgotten.
   */
  private async catchUp(chatId: string, round: ResyncRound): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.resync(chatId);
        if (round.ended) return;
        this.resyncing.delete(chatId);
        // Every change up to the sync's version has arrived, and the live events that join on.
        await this.joinAhead(chatId);
        return;
      } catch (error) {
        if (round.ended) return;
        if (error instanceof ConfabError && error.code === 'not_found') return this.forgetChat(chatId);
        if (!isTransient(error) || this.connection.state !== 'online') return;
        const hinted = error instanceof ConfabError ? error.retryAfterMs : undefined;
        const wait = hinted ?? fullJitterDelay(attempt, this.backoff, this.random);
        if (!(await round.wait(wait))) return;
      }
    }
  }

  /**
   * Sends over the connection; a message whose frame would pass the server's frame limit (or
   * for whose frame the server closed with 1009) goes over REST, whose body limit is larger,
   * with the same client_id: delivered there, or refused for good (400, 413).
   */
  private async deliver(chatId: string, request: SendMessageRequest): Promise<MessageModel> {
    try {
      return (await this.connection.request('message.send', { ...request, chat_id: chatId })).message;
    } catch (error) {
      if (error instanceof FrameTooLargeError) return this.rest.sendMessage(chatId, request);
      throw error;
    }
  }

  /**
   * Carries out one pending action over REST (one attempt: the queue retries). The server's copy
   * of the message is applied before the action is dropped, so what it shows stays put whether
   * or not the action's event has come yet.
   */
  private async perform({ chat_id, message_id, action }: PendingAction): Promise<void> {
    const once = { retries: 0 };
    switch (action.type) {
      case 'edit':
        return this.applyMessages(chat_id, [await this.rest.editMessage(message_id, { content: action.content }, once)]);
      case 'delete':
        try {
          await this.rest.deleteMessage(message_id, once);
        } catch (error) {
          // Deleted already (by an earlier attempt whose answer was lost, or by an admin): done.
          if (!(error instanceof ConfabError && error.code === 'conflict')) throw error;
        }
        break;
      case 'react':
        await this.rest.addReaction(message_id, action.emoji, once);
        break;
      case 'unreact':
        await this.rest.removeReaction(message_id, action.emoji, once);
        break;
    }
    await this.readMessage(chat_id, message_id);
  }

  /** The server's copy of a message, read as the user (it names their own reactions); when it cannot be had now, what the client has stands. */
  private async readMessage(chatId: string, messageId: string): Promise<void> {
    const message = await this.rest.message(messageId, { retries: 0 }).catch(() => undefined);
    if (message) await this.applyMessages(chatId, [message]);
  }

  /** Whether the server still takes the token (asked after a connection attempt failed before opening). */
  private async tokenAccepted(): Promise<boolean> {
    try {
      await this.rest.me({ retries: 0 });
      return true;
    } catch (error) {
      if (error instanceof ConfabError && error.status === 401) return false;
      throw error;
    }
  }

  private tokenRefused(): void {
    if (this.ended) return;
    this.refused = true;
    this.stop();
    for (const listener of this.tokenRefusedListeners) listener();
    this.tokenRefusedListeners.clear();
  }

  private onOutbox(change: OutboxChange): void {
    if (change.kind !== 'delivered') return;
    // A repeated client_id is acked without a new event: the ack is the only copy we get.
    void this.applyMessages(change.message.chat_id, [change.message]);
  }

  /** Stores copies of messages (pages, acks, events) brought up to the changes that overtook them, and tells the stores. */
  private async applyMessages(chatId: string, messages: MessageModel[]): Promise<void> {
    const current = this.lateChanges.bringUpToDate(messages);
    await this.cache.putMessages(chatId, current);
    this.emit({ kind: 'messages', chatId, messages: current, removedIds: [] });
  }

  /**
   * Messages the user hid (delete for me) leave the cache and the stores for good, and the chat
   * list's preview when it showed one: the server's copy of the chat shows the newest one left.
   */
  private async hideMessages(chatId: string, messageIds: string[]): Promise<void> {
    this.lateChanges.hide(messageIds);
    await this.cache.removeMessages(chatId, messageIds);
    this.emit({ kind: 'messages', chatId, messages: [], removedIds: messageIds });
    const chat = (await this.cache.chats()).find((c) => c.id === chatId);
    if (chat?.last_message && messageIds.includes(chat.last_message.id)) await this.refreshChat(chatId);
  }

  private async onEvent(event: ServerEvent): Promise<void> {
    switch (event.type) {
      case 'message.new': {
        const { message } = event.data as Frame<'message.new'>;
        await this.applyMessages(message.chat_id, [message]);
        await this.chatGotMessage(message);
        await this.received(message.chat_id, message.version);
        break;
      }
      // Events about a message the user hid are ignored (docs/api.md, Hiding messages).
      case 'message.updated': {
        const { message } = event.data as Frame<'message.updated'>;
        if (!this.lateChanges.isHidden(message.id)) await this.messageUpdated(message);
        await this.received(message.chat_id, message.version);
        break;
      }
      case 'message.deleted': {
        const { chat_id, message_id, version } = event.data as Frame<'message.deleted'>;
        if (!this.lateChanges.isHidden(message_id)) {
          await this.changeMessage(chat_id, message_id, version, (message) => deletedMessage(message, version));
          this.emit({ kind: 'messageDeleted', chatId: chat_id, messageId: message_id, version });
        }
        await this.received(chat_id, version);
        break;
      }
      case 'poll.updated': {
        const { chat_id, message_id, version, poll } = event.data as Frame<'poll.updated'>;
        if (!this.lateChanges.isHidden(message_id)) {
          await this.changeMessage(chat_id, message_id, version, (message) => messageWithPoll(message, poll, version));
        }
        await this.received(chat_id, version);
        break;
      }
      case 'message.hidden': {
        const { chat_id, message_id, version } = event.data as Frame<'message.hidden'>;
        await this.hideMessages(chat_id, [message_id]);
        await this.received(chat_id, version);
        break;
      }
      case 'chat.created':
      case 'chat.updated': {
        const { chat } = event.data as Frame<'chat.created'>;
        await this.storeChat(chat);
        break;
      }
      case 'chat.deleted': {
        const { chat_id } = event.data as Frame<'chat.deleted'>;
        await this.forgetChat(chat_id);
        break;
      }
      case 'member.added': {
        const { chat_id, member } = event.data as Frame<'member.added'>;
        await this.memberJoined(chat_id, member);
        break;
      }
      case 'member.updated': {
        const { chat_id, member } = event.data as Frame<'member.updated'>;
        await this.putMember(chat_id, member);
        if (member.user.id === this.userId) await this.myMembershipChanged(chat_id, member);
        break;
      }
      case 'member.removed': {
        const { chat_id, user_id } = event.data as Frame<'member.removed'>;
        if (user_id === this.userId) return this.forgetChat(chat_id);
        await this.cache.removeMember(chat_id, user_id);
        this.emit({ kind: 'members', chatId: chat_id, members: [], removedUserIds: [user_id] });
        await this.updateChat(chat_id, (chat) => chatWithMemberCount(chat, -1));
        break;
      }
      case 'user.updated': {
        const { user } = event.data as Frame<'user.updated'>;
        await this.userChanged(user);
        this.emit({ kind: 'user', user });
        break;
      }
      case 'read.updated': {
        const { chat_id, user_id, last_read_seq } = event.data as Frame<'read.updated'>;
        await this.cache.putRead(chat_id, user_id, last_read_seq);
        if (user_id === this.userId) await this.updateChat(chat_id, (chat) => chatWithRead(chat, last_read_seq));
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

  /**
   * A message in a chat the list does not hold (a hidden direct chat that reappears, a chat on
   * a page not loaded yet) brings the chat itself: the server's copy already counts it.
   */
  private async chatGotMessage(message: MessageModel): Promise<void> {
    const known = (await this.cache.chats()).some((c) => c.id === message.chat_id);
    if (known) return this.updateChat(message.chat_id, (chat) => chatWithNewMessage(chat, message, this.userId));
    await this.refreshChat(message.chat_id);
  }

  /**
   * A message's new copy from an event, which names at most the first 10 users of a reaction and
   * the one who made the change: the user's own reactions are kept from the copy held. Whether
   * the user took one back (on another device) such an event cannot tell, so when a reaction the
   * user is kept in lost users, the message is read again.
   */
  private async messageUpdated(message: MessageModel): Promise<void> {
    const held = await this.heldMessage(message.chat_id, message.id);
    await this.changeMessage(message.chat_id, message.id, message.version, (older) => withMyReactions(older, message, this.userId));
    this.emit({ kind: 'messageUpdated', chatId: message.chat_id, message: held ? withMyReactions(held, message, this.userId) : message });
    if (held && mayHaveTakenBackMyReaction(held, message, this.userId)) void this.readMessage(message.chat_id, message.id);
  }

  /**
   * A change (at `version`) of one message, and of the chat list's preview when it shows that
   * message. A message the cache does not hold keeps the change for a copy that comes later (a
   * page on its way), which would otherwise undo it.
   */
  private async changeMessage(
    chatId: string, messageId: string, version: number, change: (message: MessageModel) => MessageModel,
  ): Promise<void> {
    const held = await this.heldMessage(chatId, messageId);
    if (!held) this.lateChanges.keep(messageId, version, change);
    else if (version > held.version) await this.applyMessages(chatId, [change(held)]);
    await this.updateChat(chatId, (chat) => chatWithChangedLastMessage(chat, messageId, change));
  }

  private async heldMessage(chatId: string, messageId: string): Promise<MessageModel | undefined> {
    return (await this.cache.messages(chatId)).find((m) => m.id === messageId);
  }

  private async memberJoined(chatId: string, member: ChatMemberModel): Promise<void> {
    const known = (await this.cache.members(chatId)).some((m) => m.user.id === member.user.id);
    await this.putMember(chatId, member);
    // The user's own joining comes with chat.created, whose count already holds them.
    if (!known && member.user.id !== this.userId) await this.updateChat(chatId, (chat) => chatWithMemberCount(chat, 1));
  }

  private async putMember(chatId: string, member: ChatMemberModel): Promise<void> {
    await this.cache.putMembers(chatId, [member]);
    this.emit({ kind: 'members', chatId, members: [member], removedUserIds: [] });
  }

  /** The role shows at once; the permissions, which the chat's settings shape too, come with the server's copy. */
  private async myMembershipChanged(chatId: string, member: ChatMemberModel): Promise<void> {
    await this.updateChat(chatId, (chat) => chatWithMyMembership(chat, member));
    await this.refreshChat(chatId);
  }

  /** A user's new name or avatar, in every chat's members that hold them (presence, absent from the event, is kept). */
  private async userChanged(user: UserModel): Promise<void> {
    for (const chat of await this.cache.chats()) {
      const member = (await this.cache.members(chat.id)).find((m) => m.user.id === user.id);
      if (member) await this.putMember(chat.id, { ...member, user: { ...member.user, ...user } });
    }
  }

  /** The server's copy of a chat; when it cannot be had now (offline, gone), what the client has stands. */
  private async refreshChat(chatId: string): Promise<void> {
    let chat: ChatModel;
    try {
      chat = await this.rest.chat(chatId, { retries: 0 });
    } catch {
      return;
    }
    await this.storeChat(chat);
  }

  private async storeChat(chat: ChatModel): Promise<void> {
    await this.cache.putChats([chat]);
    this.emit({ kind: 'chats', chats: [chat] });
  }

  private async updateChat(chatId: string, change: (chat: ChatModel) => ChatModel): Promise<void> {
    const chat = (await this.cache.chats()).find((c) => c.id === chatId);
    if (!chat) return;
    const next = change(chat);
    if (next !== chat) await this.storeChat(next);
  }

  /**
   * A live change of a chat arrived: the sync point moves over it once it joins on, unless the
   * chat is being resynced. A gap that stays (a version that was not this user's: another
   * member's hidden message) is closed by a resync once enough live events wait behind it.
   */
  private async received(chatId: string, version: number): Promise<void> {
    const point = this.versions.get(chatId);
    if (point === undefined) return this.advance(chatId, version);
    if (version <= point) return;
    const ahead = this.ahead.get(chatId) ?? new Set<number>();
    this.ahead.set(chatId, ahead.add(version));
    if (this.resyncing.has(chatId)) return;
    await this.joinAhead(chatId);
    if ((this.ahead.get(chatId)?.size ?? 0) < gapResyncAfter) return;
    this.resyncing.add(chatId);
    void this.catchUp(chatId, this.resyncRound);
  }

  /** Moves the chat's sync point over the live versions that now join on to it. */
  private async joinAhead(chatId: string): Promise<void> {
    const ahead = this.ahead.get(chatId);
    const point = this.versions.get(chatId);
    if (!ahead || point === undefined) return;
    let next = point;
    while (ahead.delete(next + 1)) next++;
    if (next !== point) await this.advance(chatId, next);
  }

  /** Sets the chat's sync point (a sync page's version, a first page's) when it is ahead. */
  private async advance(chatId: string, version: number): Promise<void> {
    const next = Math.max(this.versions.get(chatId) ?? 0, version);
    this.versions.set(chatId, next);
    const ahead = this.ahead.get(chatId);
    if (ahead) for (const seen of ahead) if (seen <= next) ahead.delete(seen);
    await this.cache.putSyncVersion(chatId, next);
  }

  private emit(change: ClientChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

/**
 * One connection's resyncs, ended when a newer connection's take over or on stop. The chats
 * waiting out a back-off wait on the round, which holds their wake-ups itself: one abort
 * listener per chat on a shared AbortSignal made Node warn (MaxListenersExceededWarning) once
 * more than 10 chats waited, and a client may hold hundreds.
 */
class ResyncRound {
  private over = false;
  private readonly waiting = new Set<() => void>();

  get ended(): boolean {
    return this.over;
  }

  end(): void {
    this.over = true;
    for (const wake of this.waiting) wake();
    this.waiting.clear();
  }

  /** Resolves true once `ms` have passed, or false as soon as the round ends. */
  wait(ms: number): Promise<boolean> {
    if (this.over) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.waiting.delete(wake);
        resolve(true);
      }, ms);
      this.waiting.add(wake);
    });
  }
}
