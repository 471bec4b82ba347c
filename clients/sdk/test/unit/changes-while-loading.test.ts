// Changes that arrive while a page of history is on its way are newer than the page's copies:
// the window and the cache keep them, a deletion of a message not held yet included, and a
// message the user hid meanwhile stays hidden.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatBloc, MemoryCache, MessageBloc, type MessagePage } from '../../src/index.js';
import { fakeServer, json, refusal, settled, type RestCall } from '../support/fake-server.js';
import { chat, message } from '../support/models.js';

/** A server whose history page of c1 is held back until the test releases it. */
function slowHistory(cache = new MemoryCache()) {
  let release: (page: MessagePage) => void = () => undefined;
  let asked: () => void = () => undefined;
  const pageAsked = new Promise<void>((resolve) => { asked = resolve; });
  const server = fakeServer((call: RestCall) => {
    if (!call.path.startsWith('/chats/c1/messages?')) return refusal(404, 'not_found');
    asked();
    return new Promise((resolve) => { release = (page) => resolve(json(200, page)); });
  }, { cache });
  return { server, pageAsked, release: (page: MessagePage) => release(page) };
}

const readBefore = () => [message(1), message(2), message(3), message(4)];
const reacted = message(4, { version: 7, reactions: [{ emoji: '👍', count: 1, user_ids: ['bob'] }] });

test('an edit, a deletion and a reaction made while open waits for its page win over the page\'s older copies', async () => {
  const { server, pageAsked, release } = slowHistory();
  const socket = await server.online();
  const window = new MessageBloc(server.client, 'c1');
  const opened = window.add({ type: 'open' });
  await pageAsked;
  socket.push('message.updated', { message: message(2, { version: 5, content: 'edited', is_edited: true }) });
  socket.push('message.deleted', { chat_id: 'c1', message_id: 'm3', version: 6 });
  socket.push('message.updated', { message: reacted });
  await settled();
  release({ messages: readBefore(), next_cursor: null });
  await opened;

  const shown = (messages: readonly { id: string; content: string; is_deleted: boolean; reactions: unknown[] }[]) =>
    messages.map((m) => `${m.id}:${m.is_deleted ? 'deleted' : m.content}:${m.reactions.length}`);
  const expected = ['m1:m1:0', 'm2:edited:0', 'm3:deleted:0', 'm4:m4:1'];
  assert.deepEqual(shown(window.state.messages), expected, 'the window');
  assert.deepEqual(shown(await server.client.cache.messages('c1')), expected, 'the cache');
  assert.deepEqual(await server.client.cache.syncVersions(), { c1: 7 }, 'the sync point is past changes the client has');
  window.dispose();
  server.client.stop();
});

test('a second window on a filled cache keeps an edit made while its page was on its way', async () => {
  const cache = new MemoryCache();
  await cache.putMessages('c1', readBefore());
  const { server, pageAsked, release } = slowHistory(cache);
  const socket = await server.online();
  const window = new MessageBloc(server.client, 'c1');
  const opened = window.add({ type: 'open' });
  await pageAsked;
  socket.push('message.updated', { message: message(1, { version: 5, content: 'edited', is_edited: true }) });
  await settled();
  release({ messages: readBefore(), next_cursor: null });
  await opened;
  assert.equal(window.state.messages[0]!.content, 'edited');
  assert.equal((await cache.messages('c1'))[0]!.content, 'edited');
  window.dispose();
  server.client.stop();
});

test('a message hidden while the page was on its way stays hidden, and later events about it are ignored', async () => {
  const cache = new MemoryCache();
  await cache.putChats([chat('c1', { last_message: message(4), last_seq: 4, version: 4 })]);
  const { server, pageAsked, release } = slowHistory(cache);
  const socket = await server.online();
  const window = new MessageBloc(server.client, 'c1');
  const opened = window.add({ type: 'open' });
  await pageAsked;
  socket.push('message.hidden', { chat_id: 'c1', message_id: 'm2', version: 5 });
  await settled();
  release({ messages: readBefore(), next_cursor: null });
  await opened;
  socket.push('message.updated', { message: message(2, { version: 6, content: 'edited by ann' }) });
  socket.push('message.updated', { message: message(2, { version: 7, reactions: [{ emoji: '👍', count: 1, user_ids: ['ann'] }] }) });
  await settled();
  assert.deepEqual(window.state.messages.map((m) => m.id), ['m1', 'm3', 'm4']);
  assert.deepEqual((await cache.messages('c1')).map((m) => m.id), ['m1', 'm3', 'm4']);
  window.dispose();
  server.client.stop();
});

test('the chat list stops previewing the last message once the user hid it', async () => {
  const cache = new MemoryCache();
  await cache.putChats([chat('c1', { last_message: message(4), last_seq: 4, version: 4 })]);
  await cache.putMessages('c1', readBefore());
  const asServerListsIt = chat('c1', { last_message: message(3), last_seq: 4, version: 5 });
  const server = fakeServer((call) => (call.path === '/chats/c1' ? json(200, asServerListsIt) : refusal(404, 'not_found')), { cache });
  const chats = new ChatBloc(server.client);
  await chats.add({ type: 'load' }).catch(() => undefined);
  const socket = await server.online();
  socket.push('message.hidden', { chat_id: 'c1', message_id: 'm4', version: 5 });
  await settled();
  assert.equal(chats.state.chats[0]!.last_message?.id, 'm3');
  socket.push('message.updated', { message: message(4, { version: 6, content: 'edited by ann' }) });
  await settled();
  assert.equal(chats.state.chats[0]!.last_message?.id, 'm3', 'an edit of the hidden message does not bring it back');
  chats.dispose();
  server.client.stop();
});
