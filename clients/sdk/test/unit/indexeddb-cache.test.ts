// The IndexedDB cache (on fake-indexeddb): what one page wrote, the next page's cache shows;
// bounded per chat and in thumbnail bytes; gone after sign-out; memory only without IndexedDB.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IDBFactory } from 'fake-indexeddb';
import { BlobLru, ChatBloc, ConfabClient, IndexedDbCache, MemoryCache, MessageBloc, NetworkError, cacheSchemaVersion, type ChatMemberModel, type ChatModel, type MessageModel } from '../../src/index.js';

const chat = (id: string, version = 1) => ({ id, type: 'group', title: `Chat ${id} v${version}`, last_message: null, last_seq: 0, version, updated_at: '2026-01-01T00:00:00.000Z', me: { last_read_seq: 0, unread_count: 0 } }) as unknown as ChatModel;
const message = (seq: number, content = `m${seq}`, version = seq) => ({ id: `m${seq}`, chat_id: 'c1', seq, version, content }) as unknown as MessageModel;
const member = (userId: string) => ({ user: { id: userId }, role: 'member' }) as unknown as ChatMemberModel;
const blob = (bytes: number) => new Blob([new Uint8Array(bytes)], { type: 'image/webp' });

test('what one page cached, a reload shows: chats, messages, members, read state, presence, versions, thumbnails', async () => {
  const indexedDB = new IDBFactory();
  const first = new IndexedDbCache({ name: 'confab.cache.me', indexedDB });
  await first.putChats([chat('c1'), chat('c2')]);
  await first.putChats([chat('c1', 2)]);
  await first.putMessages('c1', [message(1), message(2), message(3)]);
  await first.putMessages('c1', [message(2, 'edited', 9)]);
  await first.removeMessages('c1', ['m3']);
  await first.putMembers('c1', [member('ann'), member('bob')]);
  await first.removeMember('c1', 'bob');
  await first.putRead('c1', 'ann', 2);
  await first.putPresence('ann', { online: true, last_seen_at: null });
  await first.putSyncVersion('c1', 9);
  await first.putThumbnail('m1', new Blob(['thumb bytes'], { type: 'image/webp' }));

  const reloaded = new IndexedDbCache({ name: 'confab.cache.me', indexedDB });
  assert.deepEqual((await reloaded.chats()).map((c) => c.title).sort(), ['Chat c1 v2', 'Chat c2 v1']);
  assert.deepEqual((await reloaded.messages('c1')).map((m) => m.content), ['m1', 'edited']);
  assert.deepEqual((await reloaded.members('c1')).map((m) => m.user.id), ['ann']);
  assert.deepEqual(await reloaded.readState('c1'), { ann: 2 });
  assert.deepEqual(await reloaded.presence('ann'), { online: true, last_seen_at: null });
  assert.deepEqual(await reloaded.syncVersions(), { c1: 9 });
  const thumbnail = await reloaded.thumbnail('m1');
  assert.equal(await thumbnail?.text(), 'thumb bytes');
  assert.equal(await reloaded.thumbnail('m2'), undefined);

  // A removed chat is forgotten whole, in the database too.
  await reloaded.removeChat('c1');
  const again = new IndexedDbCache({ name: 'confab.cache.me', indexedDB });
  assert.deepEqual((await again.chats()).map((c) => c.id), ['c2']);
  assert.deepEqual(await again.messages('c1'), []);
  assert.deepEqual(await again.members('c1'), []);
  assert.deepEqual(await again.syncVersions(), {});
});

test('a reload keeps only the newest messages of each chat', async () => {
  const indexedDB = new IDBFactory();
  const cache = new IndexedDbCache({ name: 'c', indexedDB, messagesPerChat: 3 });
  await cache.putMessages('c1', [5, 1, 4, 2, 3].map((seq) => message(seq)));
  // This page keeps everything it saw (its windows read them); the database the newest three.
  assert.equal((await cache.messages('c1')).length, 5);
  const reloaded = new IndexedDbCache({ name: 'c', indexedDB, messagesPerChat: 3 });
  assert.deepEqual((await reloaded.messages('c1')).map((m) => m.seq), [3, 4, 5]);
});

test('thumbnails stay within their bytes, the least recently used evicted first, across reloads', async () => {
  const indexedDB = new IDBFactory();
  const cache = new IndexedDbCache({ name: 't', indexedDB, thumbnailBytes: 300 });
  await cache.putThumbnail('a', blob(100));
  await cache.putThumbnail('b', blob(100));
  await cache.putThumbnail('c', blob(100));
  assert.ok(await cache.thumbnail('a')); // a is now more recent than b
  await cache.putThumbnail('d', blob(100));
  assert.equal(await cache.thumbnail('b'), undefined);
  await cache.putThumbnail('too-big', blob(301));
  assert.equal(await cache.thumbnail('too-big'), undefined);

  const reloaded = new IndexedDbCache({ name: 't', indexedDB, thumbnailBytes: 300 });
  assert.equal(await reloaded.thumbnail('b'), undefined);
  for (const key of ['a', 'c', 'd']) assert.equal((await reloaded.thumbnail(key))?.size, 100, key);
  // The use order came back too: c was the least recently used before the reads above, now a is.
  await reloaded.putThumbnail('e', blob(100));
  assert.equal(await reloaded.thumbnail('a'), undefined);
  assert.ok(await reloaded.thumbnail('d'));
});

test('sign-out clears the cache and deletes its database', async () => {
  const indexedDB = new IDBFactory();
  const cache = new IndexedDbCache({ name: 'gone', indexedDB });
  await cache.putChats([chat('c1')]);
  await cache.putThumbnail('m1', blob(10));
  await cache.clear();
  assert.deepEqual(await cache.chats(), []);
  assert.deepEqual((await indexedDB.databases()).map((d) => d.name), []);
  const next = new IndexedDbCache({ name: 'gone', indexedDB });
  assert.deepEqual(await next.chats(), []);
  assert.equal(await next.thumbnail('m1'), undefined);
});

test('a database of another schema version is dropped, not read', async () => {
  const indexedDB = new IDBFactory();
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.open('other', cacheSchemaVersion + 1);
    request.onupgradeneeded = () => request.result.createObjectStore('chats').put({ id: 'stale' }, 'stale');
    request.onsuccess = () => { request.result.close(); resolve(); };
    request.onerror = () => reject(request.error);
  });
  const cache = new IndexedDbCache({ name: 'other', indexedDB });
  assert.deepEqual(await cache.chats(), []);
  await cache.putChats([chat('c1')]);
  const reloaded = new IndexedDbCache({ name: 'other', indexedDB });
  assert.deepEqual((await reloaded.chats()).map((c) => c.id), ['c1']);
});

test('without IndexedDB (Node, private modes) it is a memory cache', async () => {
  const cache = new IndexedDbCache({ name: 'none' });
  await cache.putMessages('c1', [message(1)]);
  await cache.putThumbnail('m1', blob(1));
  assert.deepEqual((await cache.messages('c1')).map((m) => m.seq), [1]);
  assert.equal(await cache.thumbnail('m1'), undefined);
});

test('an offline start on a reloaded IndexedDB cache shows the cached chats and messages', async () => {
  const indexedDB = new IDBFactory();
  const before = new IndexedDbCache({ name: 'offline', indexedDB });
  await before.putChats([chat('c1')]);
  await before.putMessages('c1', [message(1, 'cached hello')]);
  const client = new ConfabClient({
    baseUrl: 'http://x', token: 't', userId: 'me', maxRetries: 0,
    cache: new IndexedDbCache({ name: 'offline', indexedDB }),
    fetch: (async () => { throw new TypeError('network down'); }) as unknown as typeof fetch,
    webSocketFactory: () => { throw new Error('offline'); },
  });
  const chats = new ChatBloc(client);
  await assert.rejects(chats.add({ type: 'load' }), NetworkError);
  assert.deepEqual(chats.state.chats.map((c) => c.id), ['c1']);
  const window = new MessageBloc(client, 'c1');
  await assert.rejects(window.add({ type: 'open' }), NetworkError);
  assert.deepEqual(window.state.messages.map((m) => m.content), ['cached hello']);
});

test('the memory cache bounds thumbnails the same way and clears', async () => {
  const cache = new MemoryCache({ thumbnailBytes: 200 });
  await cache.putThumbnail('a', blob(100));
  await cache.putThumbnail('b', blob(100));
  await cache.thumbnail('a');
  await cache.putThumbnail('c', blob(100));
  assert.equal(await cache.thumbnail('b'), undefined);
  assert.ok(await cache.thumbnail('a'));
  await cache.putChats([chat('c1')]);
  await cache.clear();
  assert.deepEqual(await cache.chats(), []);
  assert.equal(await cache.thumbnail('a'), undefined);
});

test('BlobLru evicts the least recently used and refuses what alone is too big', () => {
  const lru = new BlobLru(10);
  assert.deepEqual(lru.add('a', 4), []);
  assert.deepEqual(lru.add('b', 4), []);
  assert.ok(lru.touch('a'));
  assert.deepEqual(lru.add('c', 4), ['b']);
  assert.deepEqual(lru.add('a', 8), ['c']);
  assert.equal(lru.bytes, 8);
  assert.deepEqual(lru.add('d', 11), ['d']);
  assert.equal(lru.bytes, 8);
});
