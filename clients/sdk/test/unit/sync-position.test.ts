// The saved sync position of a chat only moves over changes the client has: live events that
// arrive while the chat is being resynced wait for the resync, a failed resync is tried again,
// and a chat the server no longer shows the user is dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatBloc, MemoryCache } from '../../src/index.js';
import { fakeServer, json, refusal, settled } from '../support/fake-server.js';
import { chat, message } from '../support/models.js';

async function cacheAt(versions: Record<string, number>) {
  const cache = new MemoryCache();
  for (const [chatId, version] of Object.entries(versions)) {
    await cache.putChats([chat(chatId)]);
    await cache.putSyncVersion(chatId, version);
  }
  return cache;
}

const syncPage = (version: number, messages = [message(version, { version })]) => ({ messages, hidden: [], version, has_more: false });

test('live events during a resync do not move the saved version; the resync does, with them', async () => {
  const cache = await cacheAt({ c1: 5 });
  const server = fakeServer(undefined, { cache });
  const socket = await server.online();
  const sync = await socket.request('sync');
  assert.deepEqual(sync.data, { chat_id: 'c1', since_version: 5, limit: 200 });

  socket.push('message.new', { message: message(9) });
  await settled();
  assert.equal((await cache.messages('c1')).at(-1)?.seq, 9, 'shown at once');
  assert.deepEqual(await cache.syncVersions(), { c1: 5 }, 'but 6-8 have not arrived');

  socket.ack(sync, syncPage(8, [message(6), message(7), message(8)]));
  await settled();
  assert.deepEqual(await cache.syncVersions(), { c1: 9 }, 'the resync reached 8, the live event 9');

  socket.push('message.new', { message: message(10) });
  await settled();
  assert.deepEqual(await cache.syncVersions(), { c1: 10 }, 'in step again: live events move it');
  server.client.stop();
});

test('live events out of version order (nodes of a cluster) move the saved version only once the ones below have come', async () => {
  const cache = await cacheAt({ c1: 5 });
  const server = fakeServer(undefined, { cache });
  const socket = await server.online();
  socket.ack(await socket.request('sync'), syncPage(5, []));
  await settled();

  socket.push('message.new', { message: message(7) });
  socket.push('message.updated', { message: message(3, { version: 8 }) });
  await settled();
  assert.deepEqual(await cache.syncVersions(), { c1: 5 }, 'version 6 is still crossing: a resync from 7 or 8 would miss it');

  socket.push('message.new', { message: message(6) });
  await settled();
  assert.deepEqual(await cache.syncVersions(), { c1: 8 }, 'every version up to 8 has come');
  server.client.stop();
});

test('a gap that stays (a version that was not this user\'s) is closed by a resync once enough events wait behind it', async () => {
  const cache = await cacheAt({ c1: 5 });
  const server = fakeServer(undefined, { cache });
  const socket = await server.online();
  socket.ack(await socket.request('sync'), syncPage(5, []));
  await settled();

  for (let seq = 7; seq < 7 + 49; seq++) socket.push('message.new', { message: message(seq) });
  await settled();
  assert.deepEqual(await cache.syncVersions(), { c1: 5 });
  socket.push('message.new', { message: message(56) });
  const sync = await socket.request('sync');
  assert.deepEqual(sync.data, { chat_id: 'c1', since_version: 5, limit: 200 }, 'the fiftieth event waiting asks for a resync');
  socket.ack(sync, syncPage(56, [message(7)]));
  await settled();
  assert.deepEqual(await cache.syncVersions(), { c1: 56 });
  server.client.stop();
});

test('a resync refused as rate_limited is tried again after the hinted wait, from the same version', async () => {
  const cache = await cacheAt({ c1: 5 });
  const server = fakeServer(undefined, { cache });
  const socket = await server.online();
  socket.push('message.new', { message: message(9) });
  socket.refuse(await socket.request('sync'), { code: 'rate_limited', message: 'slow down', details: { retry_after_ms: 5 } });
  await settled();
  assert.deepEqual(await cache.syncVersions(), { c1: 5 });

  const again = await socket.request('sync');
  assert.equal(again.data.since_version, 5);
  socket.ack(again, syncPage(9, [message(6), message(7), message(8), message(9)]));
  await settled();
  assert.deepEqual(await cache.syncVersions(), { c1: 9 });
  server.client.stop();
});

test('a connection lost during the resync keeps the saved version, also across a reload', async () => {
  const cache = await cacheAt({ c1: 5 });
  const first = fakeServer(undefined, { cache });
  const socket = await first.online();
  await socket.request('sync');
  socket.push('message.new', { message: message(9) });
  socket.closeWith(1006);
  await settled();
  assert.deepEqual(await cache.syncVersions(), { c1: 5 });

  const reopened = await first.socket(1);
  reopened.open();
  assert.equal((await reopened.request('sync')).data.since_version, 5, 'the next connection resyncs from it');
  first.client.stop();

  const reloaded = fakeServer(undefined, { cache });
  const afterReload = await reloaded.online();
  assert.equal((await afterReload.request('sync')).data.since_version, 5, 'and so does a reload');
  reloaded.client.stop();
});

test('a resync answered 404 (chat deleted, or the user removed while away) drops the chat from the cache and the list', async () => {
  const cache = await cacheAt({ gone: 3, kept: 4 });
  const server = fakeServer((call) => (call.path.startsWith('/chats?') ? json(200, { chats: [chat('gone'), chat('kept')], next_cursor: 'more' }) : refusal(404, 'not_found')), { cache });
  const chats = new ChatBloc(server.client);
  await chats.add({ type: 'load' });
  const socket = await server.online();
  const syncs = [await socket.request('sync'), await socket.request('sync')];
  const gone = syncs.find((s) => s.data.chat_id === 'gone')!;
  const kept = syncs.find((s) => s.data.chat_id === 'kept')!;
  socket.refuse(gone, { code: 'not_found', message: 'chat not found' });
  socket.ack(kept, syncPage(4, []));
  await settled();
  assert.deepEqual(chats.state.chats.map((c) => c.id), ['kept']);
  assert.deepEqual((await cache.chats()).map((c) => c.id), ['kept']);
  assert.deepEqual(await cache.syncVersions(), { kept: 4 });
  chats.dispose();
  server.client.stop();
});

test('a complete chat list drops the chats the user lost while away', async () => {
  const cache = await cacheAt({});
  await cache.putChats([chat('gone'), chat('kept')]);
  const server = fakeServer((call) => (call.path.startsWith('/chats?') ? json(200, { chats: [chat('kept')], next_cursor: null }) : refusal(404, 'not_found')), { cache });
  const chats = new ChatBloc(server.client);
  await chats.add({ type: 'load' });
  assert.deepEqual(chats.state.chats.map((c) => c.id), ['kept']);
  assert.deepEqual((await cache.chats()).map((c) => c.id), ['kept']);
  chats.dispose();
});

test('many chats waiting out a rate limit during the resync add no listener per chat to one signal (no MaxListenersExceededWarning)', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  const chatIds = Array.from({ length: 12 }, (_, i) => `c${i}`);
  const cache = await cacheAt(Object.fromEntries(chatIds.map((id) => [id, 1])));
  const server = fakeServer(undefined, { cache });
  const socket = await server.online();
  for (let waiting = 0; waiting < chatIds.length; waiting++) {
    socket.refuse(await socket.request('sync'), { code: 'rate_limited', message: 'slow down', details: { retry_after_ms: 60_000 } });
  }
  await settled();
  server.client.stop();
  process.off('warning', onWarning);
  assert.deepEqual(warnings, []);
});
