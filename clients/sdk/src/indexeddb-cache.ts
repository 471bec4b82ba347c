// The cache kept in IndexedDB, so that a reload or an offline start in a browser shows the last
// state at once. Reads come from a MemoryCache filled from the database when it opens; every
// change is written through as one record per chat (its chats row, its newest messages, its
// members, read state and sync version), per user (presence) and per thumbnail. Bounded: the
// newest `messagesPerChat` messages of a chat and `thumbnailBytes` of thumbnails (least
// recently used go first) are kept. Best effort: when IndexedDB is missing or refuses a write
// (private mode, quota), the cache goes on in memory and the server stays the source of truth.
import { BlobLru, Cache, defaultThumbnailBytes, MemoryCache, Presence } from './cache.js';
import type { ChatMemberModel, ChatModel, MessageModel } from './types.js';

/**
 * The layout's version. A database of another version, older or newer, is dropped whole on
 * open: it is a cache, the server refills it (bump this whenever a store or a record's shape changes).
 */
export const cacheSchemaVersion = 1;

const stores = ['chats', 'messages', 'members', 'reads', 'presence', 'versions', 'thumbnails', 'thumbnailUse'] as const;
type Store = (typeof stores)[number];
/** The stores keyed by chat id, forgotten with their chat. */
const perChat: Store[] = ['chats', 'messages', 'members', 'reads', 'versions'];

export interface IndexedDbCacheOptions {
  /** The database's name: one per signed-in user, e.g. `confab.cache.<user id>`. */
  name: string;
  /** The browser's `indexedDB` unless given (tests pass fake-indexeddb's). */
  indexedDB?: IDBFactory;
  /** Newest messages kept per chat (default 200). */
  messagesPerChat?: number;
  /** Thumbnail bytes kept (default 20 MiB). */
  thumbnailBytes?: number;
}

type Put = [Store, IDBValidKey, unknown];
type Delete = [Store, IDBValidKey];

const done = <T>(request: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

export class IndexedDbCache implements Cache {
  private readonly memory = new MemoryCache();
  private readonly factory: IDBFactory | undefined;
  private readonly messagesPerChat: number;
  private readonly thumbnailUse: BlobLru;
  private readonly ready: Promise<IDBDatabase | undefined>;

  constructor(private readonly options: IndexedDbCacheOptions) {
    this.factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    this.messagesPerChat = options.messagesPerChat ?? 200;
    this.thumbnailUse = new BlobLru(options.thumbnailBytes ?? defaultThumbnailBytes);
    this.ready = this.open().catch(() => undefined);
  }

  async chats() { await this.ready; return this.memory.chats(); }
  async putChats(chats: ChatModel[]) {
    await this.ready;
    await this.memory.putChats(chats);
    const ids = new Set(chats.map((c) => c.id));
    await this.write((await this.memory.chats()).filter((c) => ids.has(c.id)).map((c): Put => ['chats', c.id, c]));
  }
  async removeChat(chatId: string) {
    await this.ready;
    await this.memory.removeChat(chatId);
    await this.write([], perChat.map((store): Delete => [store, chatId]));
  }

  async messages(chatId: string) { await this.ready; return this.memory.messages(chatId); }
  async putMessages(chatId: string, messages: MessageModel[]) {
    await this.ready;
    await this.memory.putMessages(chatId, messages);
    await this.writeMessages(chatId);
  }
  async removeMessages(chatId: string, messageIds: string[]) {
    await this.ready;
    await this.memory.removeMessages(chatId, messageIds);
    await this.writeMessages(chatId);
  }

  async members(chatId: string) { await this.ready; return this.memory.members(chatId); }
  async putMembers(chatId: string, members: ChatMemberModel[]) {
    await this.ready;
    await this.memory.putMembers(chatId, members);
    await this.write([['members', chatId, await this.memory.members(chatId)]]);
  }
  async removeMember(chatId: string, userId: string) {
    await this.ready;
    await this.memory.removeMember(chatId, userId);
    await this.write([['members', chatId, await this.memory.members(chatId)]]);
  }

  async readState(chatId: string) { await this.ready; return this.memory.readState(chatId); }
  async putRead(chatId: string, userId: string, seq: number) {
    await this.ready;
    await this.memory.putRead(chatId, userId, seq);
    await this.write([['reads', chatId, await this.memory.readState(chatId)]]);
  }

  async presence(userId: string) { await this.ready; return this.memory.presence(userId); }
  async putPresence(userId: string, presence: Presence) {
    await this.ready;
    await this.memory.putPresence(userId, presence);
    await this.write([['presence', userId, presence]]);
  }

  async syncVersions() { await this.ready; return this.memory.syncVersions(); }
  async putSyncVersion(chatId: string, version: number) {
    await this.ready;
    await this.memory.putSyncVersion(chatId, version);
    await this.write([['versions', chatId, (await this.memory.syncVersions())[chatId]]]);
  }

  /** Thumbnails stay in the database only (Blobs there are read lazily by the browser). */
  async thumbnail(messageId: string): Promise<Blob | undefined> {
    const db = await this.ready;
    if (!db || !this.thumbnailUse.touch(messageId)) return undefined;
    try {
      const blob = await done(db.transaction('thumbnails').objectStore('thumbnails').get(messageId)) as Blob | undefined;
      await this.write([['thumbnailUse', messageId, { bytes: blob?.size ?? 0, used_at: Date.now() }]]);
      return blob;
    } catch {
      return undefined;
    }
  }
  async putThumbnail(messageId: string, blob: Blob) {
    if (!(await this.ready)) return;
    const evicted = this.thumbnailUse.add(messageId, blob.size);
    const puts: Put[] = evicted.includes(messageId) ? []
      : [['thumbnails', messageId, blob], ['thumbnailUse', messageId, { bytes: blob.size, used_at: Date.now() }]];
    await this.write(puts, evicted.flatMap((key): Delete[] => [['thumbnails', key], ['thumbnailUse', key]]));
  }

  /** Forgets everything: the database is deleted (sign-out). */
  async clear() {
    const db = await this.ready;
    await this.memory.clear();
    this.thumbnailUse.clear();
    db?.close();
    if (this.factory) await done(this.factory.deleteDatabase(this.options.name)).catch(() => undefined);
  }

  private async open(): Promise<IDBDatabase | undefined> {
    const factory = this.factory;
    if (!factory) return undefined;
    const openAtOurVersion = () => {
      const request = factory.open(this.options.name, cacheSchemaVersion);
      request.onupgradeneeded = () => {
        const db = request.result;
        for (const name of Array.from(db.objectStoreNames)) db.deleteObjectStore(name);
        for (const name of stores) db.createObjectStore(name);
      };
      return done(request);
    };
    const db = await openAtOurVersion().catch(async (error: unknown) => {
      // A newer layout (a later app version ran here, then an older one): start afresh.
      if ((error as { name?: string } | null)?.name !== 'VersionError') throw error;
      await done(factory.deleteDatabase(this.options.name));
      return openAtOurVersion();
    });
    // Another tab signing out deletes the database: let it, this tab goes on in memory.
    db.onversionchange = () => db.close();
    await this.load(db);
    return db;
  }

  private async load(db: IDBDatabase): Promise<void> {
    const tx = db.transaction(['chats', 'messages', 'members', 'reads', 'presence', 'versions', 'thumbnailUse']);
    const entries = <T>(store: Store) =>
      Promise.all([done(tx.objectStore(store).getAllKeys()), done(tx.objectStore(store).getAll())]).then(
        ([keys, values]) => keys.map((key, i) => [String(key), values[i] as T] as const));
    const [chats, messages, members, reads, presence, versions, thumbnailUse] = await Promise.all([
      entries<ChatModel>('chats'), entries<MessageModel[]>('messages'), entries<ChatMemberModel[]>('members'),
      entries<Record<string, number>>('reads'), entries<Presence>('presence'), entries<number>('versions'),
      entries<{ bytes: number; used_at: number }>('thumbnailUse'),
    ]);
    await this.memory.putChats(chats.map(([, chat]) => chat));
    for (const [chatId, list] of messages) await this.memory.putMessages(chatId, list);
    for (const [chatId, list] of members) await this.memory.putMembers(chatId, list);
    for (const [chatId, state] of reads) for (const [userId, seq] of Object.entries(state)) await this.memory.putRead(chatId, userId, seq);
    for (const [userId, state] of presence) await this.memory.putPresence(userId, state);
    for (const [chatId, version] of versions) await this.memory.putSyncVersion(chatId, version);
    for (const [key, use] of thumbnailUse.sort(([, a], [, b]) => a.used_at - b.used_at)) this.thumbnailUse.add(key, use.bytes);
  }

  private async writeMessages(chatId: string): Promise<void> {
    await this.write([['messages', chatId, (await this.memory.messages(chatId)).slice(-this.messagesPerChat)]]);
  }

  /** One transaction; a refused write leaves the memory copy in place. */
  private async write(puts: Put[], deletes: Delete[] = []): Promise<void> {
    const db = await this.ready;
    if (!db || (puts.length === 0 && deletes.length === 0)) return;
    try {
      const names = [...new Set([...puts, ...deletes].map(([store]) => store))];
      const tx = db.transaction(names, 'readwrite');
      for (const [store, key, value] of puts) tx.objectStore(store).put(value, key);
      for (const [store, key] of deletes) tx.objectStore(store).delete(key);
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } catch {
      // Quota or a closed database: the memory copy serves this page.
    }
  }
}
