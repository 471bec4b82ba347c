import type { ConfabClient } from '../client.js';
import { ConfabError } from '../errors.js';
import { inMainTimeline, mergeMessages, removeMessages } from '../merge.js';
import type { PendingAction } from '../message-actions.js';
import type { OutboxEntry } from '../outbox.js';
import type { ChatMemberModel, MessageModel, SendMessageRequest } from '../types.js';
import { Bloc, describe } from './bloc.js';

export interface MessageWindowState {
  chatId: string;
  /** The window of the chat's history, seq ascending. */
  messages: readonly MessageModel[];
  /** Sends not yet acknowledged (shown at once), and refused ones with their reason. */
  outgoing: readonly OutboxEntry[];
  /**
   * Edits, deletions and reactions of this chat not yet taken by the server (pending), or
   * refused (failed, with the reason); `withPendingActions` shows a message as they leave it.
   */
  actions: readonly PendingAction[];
  hasOlder: boolean;
  /** The window does not reach the newest message (after a jump back into history). */
  hasNewer: boolean;
  loading: boolean;
  /** Users typing now (others only); known only while connected. */
  typing: readonly string[];
  /** Each member's last_read_seq (read receipts): from the member list on open and after each connection opens, then live. */
  readBy: Readonly<Record<string, number>>;
  /**
   * The chat's newest seq this client knows of, thread replies included (they stay out of
   * `messages` but count as unread): a `markRead` up to it clears the chat's unread count.
   */
  lastSeq: number;
  /** The chat is not the user's (a 404 opening it, or removed, left or deleted while open): nothing can be sent. */
  gone: boolean;
  error?: string;
}

export type MessageEvent =
  | { type: 'open' }
  | { type: 'loadOlder' }
  | { type: 'loadNewer' }
  | { type: 'send'; request: SendMessageRequest }
  /** A refused send or action (by its client_id) is tried again. */
  | { type: 'retry'; clientId: string }
  /** A refused (or not yet sent) send or action is dropped. */
  | { type: 'discard'; clientId: string }
  | { type: 'edit'; messageId: string; content: string }
  | { type: 'delete'; messageId: string }
  | { type: 'react'; messageId: string; emoji: string }
  | { type: 'unreact'; messageId: string; emoji: string }
  | { type: 'markRead'; seq: number }
  | { type: 'input' }
  | { type: 'inputStopped' };

export interface MessageBlocOptions {
  pageSize?: number;
  /** A typing.start is sent at most this often while the user types. */
  typingIntervalMs?: number;
  /** Without input for this long, typing.stop is sent. */
  typingIdleMs?: number;
}

/** One chat's window of messages with live edits, deletions, reactions, read receipts and typing. */
export class MessageBloc extends Bloc<MessageEvent, MessageWindowState> {
  private readonly pageSize: number;
  private readonly typingIntervalMs: number;
  private readonly typingIdleMs: number;
  private lastTypingSent = -Infinity;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** The newest read mark asked for: older ones still queued behind a slow one are skipped. */
  private readAsked = 0;
  /** Whether `open` was asked for and how it went: one that failed (offline) is done again once a connection opens. */
  private opening: 'not asked' | 'failed' | 'done' = 'not asked';

  constructor(private readonly client: ConfabClient, chatId: string, options: MessageBlocOptions = {}) {
    super({
      chatId, messages: [], outgoing: client.outbox.entries(chatId), actions: client.actions.entries(chatId), hasOlder: false, hasNewer: false,
      loading: false, typing: [], readBy: {}, lastSeq: 0, gone: false,
    });
    this.pageSize = options.pageSize ?? 50;
    this.typingIntervalMs = options.typingIntervalMs ?? 3_000;
    this.typingIdleMs = options.typingIdleMs ?? 5_000;
    this.disposers.push(
      client.subscribe((change) => {
        if (change.kind === 'chats') this.seqSeen(change.chats.find((c) => c.id === chatId)?.last_seq ?? 0);
        if (!('chatId' in change) || change.chatId !== chatId) return;
        if (change.kind === 'chatRemoved') this.emit({ gone: true, typing: [] });
        else if (change.kind === 'messages') this.messagesChanged(change.messages, change.removedIds);
        else if (change.kind === 'read') this.emit({ readBy: { ...this.state.readBy, [change.userId]: change.lastReadSeq } });
        else if (change.kind === 'members') this.emit({ readBy: withReadPositions(this.state.readBy, change.members) });
        else if (change.kind === 'typing') this.typingChanged(change.userId, change.isTyping);
      }),
      // A delivered send joins the window before its entry leaves the outbox: in between (the
      // cache write the client's own 'messages' change waits on) it would be shown as neither.
      client.outbox.subscribe((change) => {
        if (change.kind === 'delivered' && change.message.chat_id === chatId) this.messagesChanged([change.message], []);
        else if (change.kind === 'changed') this.outgoingChanged(change.entries.filter((e) => e.chat_id === chatId));
      }),
      client.actions.subscribe((change) => {
        if (change.kind === 'changed') this.emit({ actions: change.entries.filter((e) => e.chat_id === chatId) });
      }),
      // The server says "stopped typing" only to a connection that is up, and does not repeat
      // "typing" to a new one: without a connection nobody is known to be typing.
      client.connection.onState((state) => {
        if (state !== 'online' && this.state.typing.length) this.emit({ typing: [] });
      }),
      client.connection.onOpen(() => this.connected()),
      () => clearTimeout(this.idleTimer),
    );
  }

  /**
   * Three lanes (see Bloc): the history (`open`, `loadOlder`, `loadNewer`) and the read mark
   * wait on REST and its retries; what the user does (sends, edits, reactions, deletions,
   * retry, discard, typing) only writes to the outbox or the pending actions, which are durable
   * and deliver in order by themselves, so it is shown and kept at once, never behind the
   * network. Within a lane the order is the order added.
   */
  protected override laneOf(event: MessageEvent): string {
    switch (event.type) {
      case 'open':
      case 'loadOlder':
      case 'loadNewer':
        return 'history';
      case 'markRead':
        return 'read';
      default:
        return 'user';
    }
  }

  override add(event: MessageEvent): Promise<void> {
    if (event.type === 'markRead') this.readAsked = Math.max(this.readAsked, event.seq);
    return super.add(event);
  }

  protected async on(event: MessageEvent): Promise<void> {
    try {
      await this.handle(event);
    } catch (error) {
      // Only the history lane sets `loading`: a failure in another lane leaves it to that lane.
      const history = this.laneOf(event) === 'history';
      const gone = event.type === 'open' && chatNotFound(error);
      if (event.type === 'open') this.opening = 'failed';
      this.emit({ error: describe(error), ...(history ? { loading: false } : {}), ...(gone ? { gone } : {}) });
      throw error;
    }
  }

  private async handle(event: MessageEvent): Promise<void> {
    const { client } = this;
    const { chatId } = this.state;
    switch (event.type) {
      case 'open': {
        // The cached window first, then the newest page from the server.
        const everything = await client.cache.messages(chatId);
        const [cached, readBy] = [everything.filter(inMainTimeline), await client.cache.readState(chatId)];
        this.emit({ messages: cached.slice(-this.pageSize), readBy, loading: true, error: undefined });
        this.seqSeen(Math.max(maxSeq(everything), await this.cachedLastSeq()));
        const page = await client.rest.listMessages(chatId, { limit: this.pageSize });
        await client.applyPage(chatId, page.messages);
        // From the page's first message on (an empty page: the chat had none), with the messages
        // that came live after the page and the changes that overtook it.
        const newest = await this.held(page.messages.length ? minSeq(page.messages) : 0);
        this.emit({ messages: newest, hasOlder: page.next_cursor !== null, hasNewer: false, loading: false });
        this.opening = 'done';
        this.seqSeen(await this.cachedLastSeq());
        // Not awaited: the history lane (loadOlder) does not wait for the member list.
        void this.loadReadReceipts();
        return;
      }
      case 'loadOlder': {
        const oldest = this.state.messages[0];
        if (!oldest || !this.state.hasOlder) return;
        this.emit({ loading: true });
        const page = await client.rest.listMessages(chatId, { before_seq: oldest.seq, limit: this.pageSize });
        await client.applyPage(chatId, page.messages);
        const older = await this.held(minSeq(page.messages), oldest.seq - 1);
        this.emit({ messages: mergeMessages(this.state.messages, older), hasOlder: page.next_cursor !== null, loading: false });
        return;
      }
      case 'loadNewer': {
        const newest = this.state.messages.at(-1);
        if (!newest || !this.state.hasNewer) return;
        this.emit({ loading: true });
        const page = await client.rest.listMessages(chatId, { after_seq: newest.seq, limit: this.pageSize });
        await client.applyPage(chatId, page.messages);
        // The last page reaches the newest message: those that came live meanwhile join too.
        const newer = await this.held(newest.seq + 1, page.next_cursor === null ? Infinity : maxSeq(page.messages));
        this.emit({ messages: mergeMessages(this.state.messages, newer), hasNewer: page.next_cursor !== null, loading: false });
        return;
      }
      case 'send':
        this.stopTyping();
        await client.send(chatId, event.request);
        return;
      case 'retry':
        return client.actions.has(event.clientId) ? client.actions.retry(event.clientId) : client.outbox.retry(event.clientId);
      case 'discard':
        return client.actions.has(event.clientId) ? client.actions.discard(event.clientId) : client.outbox.discard(event.clientId);
      // Kept and carried out once the server can take them, as sends are (client.act).
      case 'edit':
        await client.act(chatId, event.messageId, { type: 'edit', content: event.content });
        return;
      case 'delete':
        await client.act(chatId, event.messageId, { type: 'delete' });
        return;
      case 'react':
      case 'unreact':
        await client.act(chatId, event.messageId, { type: event.type, emoji: event.emoji });
        return;
      case 'markRead':
        if (event.seq < this.readAsked || (this.state.readBy[client.userId!] ?? 0) >= event.seq) return;
        return client.rest.markRead(chatId, event.seq);
      case 'input':
        return this.typed();
      case 'inputStopped':
        return this.stopTyping();
    }
  }

  /**
   * After each connection opens: an `open` that failed (an offline start) is done again, so the
   * window pages back from the newest page and the error goes; an open window's read receipts
   * are read again, since those made while away come with no event.
   */
  private connected(): void {
    if (this.opening === 'failed' && !this.state.gone) void this.add({ type: 'open' }).catch(() => undefined);
    else if (this.opening === 'done') void this.loadReadReceipts();
  }

  /**
   * Every member's read position, from the member list (`readBy`). Not for a large group or a
   * channel, whose lists run to many pages and whose reads only their staff are told. A failure
   * leaves the receipts known: they are read again when the next connection opens.
   */
  private async loadReadReceipts(): Promise<void> {
    const chat = (await this.client.cache.chats()).find((c) => c.id === this.state.chatId);
    if (chat?.large || chat?.type === 'channel') return;
    await this.client.refreshMembers(this.state.chatId).catch(() => undefined);
  }

  private messagesChanged(changed: readonly MessageModel[], removedIds: readonly string[]): void {
    this.seqSeen(maxSeq(changed));
    const inWindow = changed.filter((m) => inMainTimeline(m) && this.belongsInWindow(m));
    const messages = removeMessages(mergeMessages(this.state.messages, inWindow), removedIds);
    this.emit({ messages, outgoing: this.withoutDelivered(this.state.outgoing, messages) });
  }

  /**
   * The window is a contiguous stretch of history: a message joins it when its seq lies within
   * the stretch, or past its end while the window shows the newest. A change to an older
   * message stays out: the window would reach back to it, and loadOlder, which pages from the
   * oldest message shown, would never load the messages in between.
   */
  private belongsInWindow(message: MessageModel): boolean {
    const { messages, hasNewer } = this.state;
    const oldest = messages[0]?.seq ?? -Infinity;
    const newest = messages.at(-1)?.seq ?? -Infinity;
    return message.seq > newest ? !hasNewer : message.seq >= oldest;
  }

  /**
   * The main-timeline messages the cache holds from seq `from` to `to`, a page's stretch: the
   * cache keeps the newer of two copies of a message (a change that came live while the page
   * was on its way is newer than the page's copy) and none the user hid meanwhile.
   */
  private async held(from: number, to = Infinity): Promise<MessageModel[]> {
    const cached = await this.client.cache.messages(this.state.chatId);
    return cached.filter((m) => inMainTimeline(m) && m.seq >= from && m.seq <= to);
  }

  private seqSeen(seq: number): void {
    if (seq > this.state.lastSeq) this.emit({ lastSeq: seq });
  }

  /** The chat's last_seq as the cache holds it (kept current by live events, thread replies included). */
  private async cachedLastSeq(): Promise<number> {
    return (await this.client.cache.chats()).find((c) => c.id === this.state.chatId)?.last_seq ?? 0;
  }

  private outgoingChanged(entries: readonly OutboxEntry[]): void {
    this.emit({ outgoing: this.withoutDelivered(entries, this.state.messages) });
  }

  /** An entry whose message is already in the window is shown once, as the message. */
  private withoutDelivered(entries: readonly OutboxEntry[], messages: readonly MessageModel[]): OutboxEntry[] {
    const delivered = new Set(messages.filter((m) => m.sender_id === this.client.userId).map((m) => m.client_id));
    return entries.filter((e) => !delivered.has(e.client_id));
  }

  private typed(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.add({ type: 'inputStopped' }), this.typingIdleMs);
    const now = Date.now();
    if (now - this.lastTypingSent < this.typingIntervalMs) return;
    this.lastTypingSent = now;
    this.client.connection.request('typing.start', { chat_id: this.state.chatId }).catch(() => undefined);
  }

  private stopTyping(): void {
    clearTimeout(this.idleTimer);
    if (this.lastTypingSent === -Infinity) return;
    this.lastTypingSent = -Infinity;
    this.client.connection.request('typing.stop', { chat_id: this.state.chatId }).catch(() => undefined);
  }

  private typingChanged(userId: string, isTyping: boolean): void {
    const others = this.state.typing.filter((id) => id !== userId);
    this.emit({ typing: isTyping ? [...others, userId] : others });
  }
}

/** Read positions move only forward: a member list read before a newer `read.updated` does not undo it. */
function withReadPositions(readBy: Readonly<Record<string, number>>, members: readonly ChatMemberModel[]): Record<string, number> {
  const next = { ...readBy };
  for (const { user, last_read_seq } of members) if (last_read_seq !== null) next[user.id] = Math.max(next[user.id] ?? 0, last_read_seq);
  return next;
}

const maxSeq = (messages: readonly MessageModel[]): number => messages.reduce((seq, m) => Math.max(seq, m.seq), 0);
const minSeq = (messages: readonly MessageModel[]): number => messages.reduce((seq, m) => Math.min(seq, m.seq), Infinity);

/**
 * Opening answered that the chat is not the user's: `404`, or `400` for a chat id that is not
 * one (a mistyped address: the server refuses the malformed id before looking).
 */
function chatNotFound(error: unknown): boolean {
  if (!(error instanceof ConfabError)) return false;
  return error.code === 'not_found' || (error.code === 'bad_request' && error.details['field'] === 'chat_id');
}
