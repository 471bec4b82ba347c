// A reload or an offline start shows the cached state at once; the server's answer follows when it can.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatBloc, ConfabClient, MemoryCache, MessageBloc, NetworkError, type ChatMemberModel, type ChatModel, type MessageModel } from '../../src/index.js';

const chat = { id: 'c1', type: 'group', title: 'Cached', last_message: null, last_seq: 1, version: 1, updated_at: '2026-01-01T00:00:00.000Z', me: { last_read_seq: 0, unread_count: 1 } } as unknown as ChatModel;
const message = { id: 'm1', chat_id: 'c1', seq: 1, version: 1, content: 'cached hello' } as unknown as MessageModel;

test('with the server unreachable, the stores show the cache and the reason', async () => {
  const cache = new MemoryCache();
  await cache.putChats([chat]);
  await cache.putMessages('c1', [message]);
  await cache.putRead('c1', 'bob', 1);
  await cache.putPresence('bob', { online: false, last_seen_at: '2026-01-01T00:00:00.000Z' });
  await cache.putMembers('c1', [{ user: { id: 'bob', display_name: 'Bob', online: true }, role: 'member' } as unknown as ChatMemberModel]);
  const client = new ConfabClient({
    baseUrl: 'http://x', token: 't', userId: 'me', cache, maxRetries: 0,
    fetch: (async () => { throw new TypeError('network down'); }) as unknown as typeof fetch,
    webSocketFactory: () => { throw new Error('offline'); },
  });

  const chats = new ChatBloc(client);
  await assert.rejects(chats.add({ type: 'load' }), NetworkError);
  assert.deepEqual(chats.state.chats.map((c) => c.title), ['Cached']);
  assert.match(chats.state.error!, /network down/);
  // Members too (direct chats are named after them), with the presence last seen live over the member list's.
  await assert.rejects(chats.add({ type: 'loadMembers', chatId: 'c1' }), NetworkError);
  assert.deepEqual(chats.state.members['c1']!.map((m) => m.user.display_name), ['Bob']);
  assert.deepEqual(chats.state.presence['bob'], { online: false, last_seen_at: '2026-01-01T00:00:00.000Z' });

  const window = new MessageBloc(client, 'c1');
  await assert.rejects(window.add({ type: 'open' }), NetworkError);
  assert.deepEqual(window.state.messages.map((m) => m.content), ['cached hello']);
  assert.deepEqual(window.state.readBy, { bob: 1 });
  assert.deepEqual(await cache.presence('bob'), { online: false, last_seen_at: '2026-01-01T00:00:00.000Z' });
});

test('the memory cache merges by version and forgets a removed chat whole', async () => {
  const cache = new MemoryCache();
  await cache.putMessages('c1', [{ ...message, version: 3, content: 'new' }]);
  await cache.putMessages('c1', [message]);
  assert.equal((await cache.messages('c1'))[0]!.content, 'new');
  await cache.putSyncVersion('c1', 3);
  await cache.putSyncVersion('c1', 2);
  assert.deepEqual(await cache.syncVersions(), { c1: 3 });
  await cache.removeChat('c1');
  assert.deepEqual(await cache.messages('c1'), []);
  assert.deepEqual(await cache.syncVersions(), {});
});
