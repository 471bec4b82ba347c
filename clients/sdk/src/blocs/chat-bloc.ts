import type { Presence } from '../cache.js';
import type { ConfabClient } from '../client.js';
import type { ConnectionState } from '../connection.js';
import { mergeChats, mergeMembers } from '../merge.js';
import type { ChatMemberModel, ChatModel, CreateChatRequest, UpdateChatRequest, UpdateMemberRequest } from '../types.js';
import { Bloc, describe } from './bloc.js';

export interface ChatListState {
  chats: readonly ChatModel[];
  /** Cursor of the next page; null when the list is complete. */
  nextCursor: string | null;
  loading: boolean;
  connection: ConnectionState;
  /** Members of the chats whose members were loaded, by chat id. */
  members: Readonly<Record<string, readonly ChatMemberModel[]>>;
  /** Online state and last seen time of users the caller shares a chat with, as the server reports it. */
  presence: Readonly<Record<string, Presence>>;
  error?: string;
}

export type ChatEvent =
  | { type: 'load' }
  | { type: 'loadMore' }
  | { type: 'create'; request: CreateChatRequest; created?: (chat: ChatModel) => void }
  | { type: 'update'; chatId: string; request: UpdateChatRequest }
  | { type: 'delete'; chatId: string }
  | { type: 'loadMembers'; chatId: string }
  | { type: 'addMembers'; chatId: string; userIds: string[] }
  | { type: 'updateMember'; chatId: string; userId: string; request: UpdateMemberRequest }
  | { type: 'removeMember'; chatId: string; userId: string }
  | { type: 'leave'; chatId: string };

/** The chat list (keyset pages, unread counts live), creation, settings, members and admin actions. */
export class ChatBloc extends Bloc<ChatEvent, ChatListState> {
  /** The last `load` failed (an offline start): it is done again when a connection opens. */
  private loadFailed = false;

  constructor(private readonly client: ConfabClient, private readonly pageSize = 50) {
    super({ chats: [], nextCursor: null, loading: false, connection: client.state, members: {}, presence: {} });
    this.disposers.push(
      client.connection.onState((connection) => this.emit({ connection })),
      client.subscribe((change) => {
        if (change.kind === 'chats') this.emit({ chats: mergeChats(this.state.chats, change.chats) });
        else if (change.kind === 'chatRemoved') this.forget(change.chatId);
        else if (change.kind === 'members') this.membersChanged(change.chatId, change.members, change.removedUserIds);
        else if (change.kind === 'presence') this.emit({ presence: { ...this.state.presence, [change.userId]: change.presence } });
      }),
      client.connection.onOpen(({ reconnected }) => {
        if (reconnected || this.loadFailed) this.reloadAfterAway();
      }),
    );
  }

  /**
   * Events are handled one at a time, but what the cache holds is shown at once: behind the
   * queue an offline start's cached members (which name direct chats) waited for `load`'s
   * REST attempts to fail. Showing the cache only fills what nothing has filled yet.
   */
  override add(event: ChatEvent): Promise<void> {
    if (event.type === 'load') void this.showCachedChats().catch(() => undefined);
    else if (event.type === 'loadMembers') void this.showCachedMembers(event.chatId).catch(() => undefined);
    return super.add(event);
  }

  protected async on(event: ChatEvent): Promise<void> {
    try {
      await this.handle(event);
    } catch (error) {
      if (event.type === 'load') this.loadFailed = true;
      this.emit({ loading: false, error: describe(error) });
      throw error;
    }
  }

  private async handle(event: ChatEvent): Promise<void> {
    const { client } = this;
    switch (event.type) {
      case 'load': {
        // The cached list first (an offline start shows it at once), then the server's first page.
        await this.showCachedChats();
        this.emit({ loading: true, error: undefined });
        const shown = this.state.chats.map((c) => c.id);
        const page = await client.rest.listChats({ limit: this.pageSize });
        await client.cache.putChats(page.chats);
        this.emit({ chats: mergeChats(this.state.chats, page.chats), nextCursor: page.next_cursor, loading: false });
        this.loadFailed = false;
        if (page.next_cursor === null) await this.forgetMissing(shown, page.chats);
        return;
      }
      case 'loadMore': {
        if (this.state.nextCursor === null) return;
        this.emit({ loading: true });
        const page = await client.rest.listChats({ limit: this.pageSize, cursor: this.state.nextCursor });
        await client.cache.putChats(page.chats);
        this.emit({ chats: mergeChats(this.state.chats, page.chats), nextCursor: page.next_cursor, loading: false });
        return;
      }
      case 'create': {
        const chat = await client.rest.createChat(event.request);
        await this.store(chat);
        event.created?.(chat);
        return;
      }
      case 'update':
        return this.store(await client.rest.updateChat(event.chatId, event.request));
      case 'delete':
        await client.rest.deleteChat(event.chatId);
        return client.forgetChat(event.chatId);
      case 'loadMembers': {
        await this.showCachedMembers(event.chatId);
        const members = await client.refreshMembers(event.chatId);
        this.emit({ members: { ...this.state.members, [event.chatId]: members }, presence: { ...this.state.presence, ...presenceOf(members) } });
        return;
      }
      case 'addMembers': {
        const added = await client.rest.addMembers(event.chatId, event.userIds);
        return this.membersChanged(event.chatId, added.members, []);
      }
      case 'updateMember': {
        const member = await client.rest.updateMember(event.chatId, event.userId, event.request);
        return this.membersChanged(event.chatId, [member], []);
      }
      case 'removeMember':
        await client.rest.removeMember(event.chatId, event.userId);
        return this.membersChanged(event.chatId, [], [event.userId]);
      case 'leave':
        await client.rest.removeMember(event.chatId, client.userId!);
        return client.forgetChat(event.chatId);
    }
  }

  /**
   * After a reconnect, or the first open after a `load` that failed: what changed while away
   * comes with no event, so the list is loaded again, and so are the member lists loaded
   * (members added or gone, users renamed, while the client was offline). Not those of direct
   * chats, whose two members never change: a list of many direct chats (the web client loads
   * each one's members to name it) would spend a request per chat of the user's request budget
   * on every reconnect; a direct chat's members are read again when its window opens.
   */
  private reloadAfterAway(): void {
    void this.add({ type: 'load' }).catch(() => undefined);
    const direct = new Set(this.state.chats.filter((c) => c.type === 'direct').map((c) => c.id));
    for (const chatId of Object.keys(this.state.members)) {
      if (!direct.has(chatId)) void this.add({ type: 'loadMembers', chatId }).catch(() => undefined);
    }
  }

  private async showCachedChats(): Promise<void> {
    const cached = await this.client.cache.chats();
    if (this.state.chats.length === 0 && cached.length) this.emit({ chats: cached });
  }

  /** The cached members and their last known presence: an offline start names direct chats. */
  private async showCachedMembers(chatId: string): Promise<void> {
    const cached = await this.client.cache.members(chatId);
    if (!cached.length) return;
    const presence = { ...presenceOf(cached), ...(await cachedPresence(this.client, cached)) };
    if (this.state.members[chatId]) return;
    this.emit({ members: { ...this.state.members, [chatId]: cached }, presence: { ...presence, ...this.state.presence } });
  }

  /**
   * A complete first page is the whole list: a chat shown before the request that it lacks was
   * lost meanwhile (left, removed or deleted while offline). Chats that arrived by events
   * during the request were not shown before it, so they stay.
   */
  private async forgetMissing(shownBefore: readonly string[], list: readonly ChatModel[]): Promise<void> {
    const listed = new Set(list.map((c) => c.id));
    for (const chatId of shownBefore) if (!listed.has(chatId)) await this.client.forgetChat(chatId);
  }

  private async store(chat: ChatModel): Promise<void> {
    await this.client.cache.putChats([chat]);
    this.emit({ chats: mergeChats(this.state.chats, [chat]) });
  }

  private forget(chatId: string): void {
    const { [chatId]: _, ...members } = this.state.members;
    this.emit({ chats: this.state.chats.filter((c) => c.id !== chatId), members });
  }

  private membersChanged(chatId: string, changed: readonly ChatMemberModel[], removed: readonly string[]): void {
    const current = this.state.members[chatId];
    if (!current) return;
    const next = mergeMembers(current, changed).filter((m) => !removed.includes(m.user.id));
    this.emit({ members: { ...this.state.members, [chatId]: next } });
  }
}

/** The presence the cache last saw for these members (from presence.update events). */
async function cachedPresence(client: ConfabClient, members: readonly ChatMemberModel[]): Promise<Record<string, Presence>> {
  const known: Record<string, Presence> = {};
  for (const member of members) {
    const presence = await client.cache.presence(member.user.id);
    if (presence) known[member.user.id] = presence;
  }
  return known;
}

/** What member lists say about presence (only where the user's privacy lets the caller see it). */
function presenceOf(members: readonly ChatMemberModel[]): Record<string, Presence> {
  const known = members.filter((m) => m.user.online !== undefined);
  return Object.fromEntries(known.map((m) => [m.user.id, { online: m.user.online!, last_seen_at: m.user.last_seen_at ?? null }]));
}
