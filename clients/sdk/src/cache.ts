// The client's local copy of what it has seen, so that a reload or an offline start shows the
// last state at once and then syncs. IndexedDbCache (indexeddb-cache.ts) keeps it across
// reloads in a browser; MemoryCache serves Node and tests.
import { mergeChats, mergeMembers, mergeMessages, removeMessages } from './merge.js';
import type { ChatMemberModel, ChatModel, MessageModel } from './types.js';

export interface Presence {
  online: boolean;
  last_seen_at: string | null;
}

export interface Cache {
  chats(): Promise<ChatModel[]>;
  putChats(chats: ChatModel[]): Promise<void>;
  removeChat(chatId: string): Promise<void>;

  /** A chat's cached messages, seq ascending. */
  messages(chatId: string): Promise<MessageModel[]>;
  putMessages(chatId: string, messages: MessageModel[]): Promise<void>;
  removeMessages(chatId: string, messageIds: string[]): Promise<void>;

  members(chatId: string): Promise<ChatMemberModel[]>;
  putMembers(chatId: string, members: ChatMemberModel[]): Promise<void>;
  removeMember(chatId: string, userId: string): Promise<void>;

  /** Each member's last_read_seq as the client last saw it. */
  readState(chatId: string): Promise<Record<string, number>>;
  putRead(chatId: string, userId: string, seq: number): Promise<void>;

  presence(userId: string): Promise<Presence | undefined>;
  putPresence(userId: string, presence: Presence): Promise<void>;

  /** The chat version up to which the client has applied every change (the next since_version). */
  syncVersions(): Promise<Record<string, number>>;
  putSyncVersion(chatId: string, version: number): Promise<void>;

  /** A media thumbnail kept so that it shows without a request (least recently used go first). */
  thumbnail(messageId: string): Promise<Blob | undefined>;
  putThumbnail(messageId: string, blob: Blob): Promise<void>;

  /** Forgets everything (sign-out). */
  clear(): Promise<void>;
}

/** Thumbnail bytes a cache keeps unless told otherwise. */
export const defaultThumbnailBytes = 20 * 1024 * 1024;

/** Blobs by key within a byte budget, least recently used evicted first (Map order is use order). */
export class BlobLru {
  private readonly entries = new Map<string, number>();
  private total = 0;

  constructor(readonly maxBytes: number) {}

  /** Marks a key used; true when it is held. */
  touch(key: string): boolean {
    const bytes = this.entries.get(key);
    if (bytes === undefined) return false;
    this.entries.delete(key);
    this.entries.set(key, bytes);
    return true;
  }

  /** Records a key's size and returns the keys evicted to stay within the budget (the key itself when it alone is too big). */
  add(key: string, bytes: number): string[] {
    this.remove(key);
    if (bytes > this.maxBytes) return [key];
    this.entries.set(key, bytes);
    this.total += bytes;
    const evicted: string[] = [];
    for (const [oldest, size] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= size;
      evicted.push(oldest);
    }
    return evicted;
  }

  remove(key: string): void {
    const bytes = this.entries.get(key);
    if (bytes === undefined) return;
    this.entries.delete(key);
    this.total -= bytes;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  get bytes(): number {
    return this.total;
  }
}

export class MemoryCache implements Cache {
  private chatList: ChatModel[] = [];
  private readonly messagesByChat = new Map<string, MessageModel[]>();
  private readonly membersByChat = new Map<string, ChatMemberModel[]>();
  private readonly reads = new Map<string, Record<string, number>>();
  private readonly presenceByUser = new Map<string, Presence>();
  private versions: Record<string, number> = {};
  private readonly thumbnails = new Map<string, Blob>();
  private readonly thumbnailUse: BlobLru;

  constructor(options: { thumbnailBytes?: number } = {}) {
    this.thumbnailUse = new BlobLru(options.thumbnailBytes ?? defaultThumbnailBytes);
  }

  async chats() { return this.chatList; }
  async putChats(chats: ChatModel[]) { this.chatList = mergeChats(this.chatList, chats); }
  async removeChat(chatId: string) {
    this.chatList = this.chatList.filter((c) => c.id !== chatId);
    this.messagesByChat.delete(chatId);
    this.membersByChat.delete(chatId);
    this.reads.delete(chatId);
    delete this.versions[chatId];
  }

  async messages(chatId: string) { return this.messagesByChat.get(chatId) ?? []; }
  async putMessages(chatId: string, messages: MessageModel[]) {
    this.messagesByChat.set(chatId, mergeMessages(this.messagesByChat.get(chatId) ?? [], messages));
  }
  async removeMessages(chatId: string, messageIds: string[]) {
    this.messagesByChat.set(chatId, removeMessages(this.messagesByChat.get(chatId) ?? [], messageIds));
  }

  async members(chatId: string) { return this.membersByChat.get(chatId) ?? []; }
  async putMembers(chatId: string, members: ChatMemberModel[]) {
    this.membersByChat.set(chatId, mergeMembers(this.membersByChat.get(chatId) ?? [], members));
  }
  async removeMember(chatId: string, userId: string) {
    this.membersByChat.set(chatId, (this.membersByChat.get(chatId) ?? []).filter((m) => m.user.id !== userId));
  }

  async readState(chatId: string) { return { ...this.reads.get(chatId) }; }
  async putRead(chatId: string, userId: string, seq: number) {
    const state = this.reads.get(chatId) ?? {};
    state[userId] = Math.max(state[userId] ?? 0, seq);
    this.reads.set(chatId, state);
  }

  async presence(userId: string) { return this.presenceByUser.get(userId); }
  async putPresence(userId: string, presence: Presence) { this.presenceByUser.set(userId, presence); }

  async syncVersions() { return { ...this.versions }; }
  async putSyncVersion(chatId: string, version: number) {
    this.versions[chatId] = Math.max(this.versions[chatId] ?? 0, version);
  }

  async thumbnail(messageId: string) {
    return this.thumbnailUse.touch(messageId) ? this.thumbnails.get(messageId) : undefined;
  }
  async putThumbnail(messageId: string, blob: Blob) {
    this.thumbnails.set(messageId, blob);
    for (const evicted of this.thumbnailUse.add(messageId, blob.size)) this.thumbnails.delete(evicted);
  }

  async clear() {
    this.chatList = [];
    for (const map of [this.messagesByChat, this.membersByChat, this.reads, this.presenceByUser, this.thumbnails]) map.clear();
    this.versions = {};
    this.thumbnailUse.clear();
  }
}
