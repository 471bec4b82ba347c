// What changed while the client was away, or before a window opened, comes with no event: read
// receipts and member lists are read from the server on open and after each connection opens,
// and an `open` that failed offline is done again once a connection opens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatBloc, MemoryCache, MessageBloc, type ChatMemberModel } from '../../src/index.js';
import { fakeServer, json, refusal, type RestCall } from '../support/fake-server.js';
import { chat, member, message, user } from '../support/models.js';
import { stateWhere } from '../support/clients.js';

/** Chat c1 of `messages` messages, its newest pages of `limit` served; its members as `members()` says now. */
function chatServer(messages: number, members: () => ChatMemberModel[], reachable = () => true, cache = new MemoryCache()) {
  return fakeServer((call: RestCall) => {
    if (!reachable()) throw new TypeError('fetch failed');
    const url = new URL(call.path, 'http://x');
    if (url.pathname === '/chats/c1/members') return json(200, { members: members(), next_cursor: null });
    if (url.pathname !== '/chats/c1/messages') return refusal(404, 'not_found');
    const limit = Number(url.searchParams.get('limit'));
    const before = Number(url.searchParams.get('before_seq') ?? messages + 1);
    const seqs = Array.from({ length: limit }, (_, i) => before - limit + i).filter((seq) => seq > 0);
    return json(200, { messages: seqs.map((seq) => message(seq)), next_cursor: seqs[0]! > 1 ? String(seqs[0]) : null });
  }, { cache });
}

test('read receipts made before the window opened, and while the client was away, are read from the member list', { timeout: 10_000 }, async () => {
  let annRead = 2;
  const server = chatServer(5, () => [
    member('c1', 'me', { last_read_seq: 5 }), member('c1', 'ann', { last_read_seq: annRead }), member('c1', 'bob', { last_read_seq: null }),
  ]);
  const socket = await server.online();
  const window = new MessageBloc(server.client, 'c1');
  await window.add({ type: 'open' });
  assert.deepEqual((await stateWhere(window, (s) => s.readBy['ann'] !== undefined)).readBy, { me: 5, ann: 2 }, 'bob hides his receipts');

  socket.closeWith(1006);
  annRead = 4; // read while this client was offline: no read.updated reaches it
  (await server.socket(1)).open();
  assert.equal((await stateWhere(window, (s) => s.readBy['ann'] === 4)).readBy['ann'], 4);
  window.dispose();
  server.client.stop();
});

test('an open that failed offline is done again once a connection opens: older history pages in and the error goes', { timeout: 10_000 }, async () => {
  const cache = new MemoryCache();
  await cache.putMessages('c1', Array.from({ length: 30 }, (_, i) => message(i + 1)));
  let online = false;
  const server = chatServer(33, () => [], () => online, cache);
  await server.client.start();
  const window = new MessageBloc(server.client, 'c1', { pageSize: 10 });
  await assert.rejects(window.add({ type: 'open' }));
  assert.equal(window.state.messages.length, 10, 'the cached window shows');
  assert.match(window.state.error!, /fetch failed/);

  online = true;
  (await server.socket(0)).open();
  const reopened = await stateWhere(window, (s) => s.error === undefined && !s.loading && s.messages.at(-1)?.seq === 33);
  assert.equal(reopened.hasOlder, true);
  for (let page = 0; page < 3; page++) await window.add({ type: 'loadOlder' });
  assert.equal(window.state.messages.length, 33, 'every message can be reached');
  window.dispose();
  server.client.stop();
});

test('loaded member lists are read again after a reconnect: a member added and a rename made while offline show', { timeout: 10_000 }, async () => {
  let members = [member('c1', 'me'), member('c1', 'ann')];
  const server = chatServer(1, () => members);
  const socket = await server.online();
  const chats = new ChatBloc(server.client);
  await chats.add({ type: 'loadMembers', chatId: 'c1' });

  socket.closeWith(1006);
  members = [member('c1', 'me'), member('c1', 'ann', { user: user('ann', { display_name: 'Ann B.' }) }), member('c1', 'bob')];
  (await server.socket(1)).open();
  const names = (s: typeof chats.state) => (s.members['c1'] ?? []).map((m) => m.user.display_name).join(',');
  assert.equal(names(await stateWhere(chats, (s) => names(s) === 'me,Ann B.,bob')), 'me,Ann B.,bob');
  chats.dispose();
  server.client.stop();
});

test('a chat list whose load failed offline is loaded again once a connection opens, and the error goes', { timeout: 10_000 }, async () => {
  let online = false;
  const server = fakeServer(() => {
    if (!online) throw new TypeError('fetch failed');
    return json(200, { chats: [chat('c1', { title: 'From the server' })], next_cursor: null });
  });
  await server.client.start();
  const chats = new ChatBloc(server.client);
  await assert.rejects(chats.add({ type: 'load' }));
  assert.match(chats.state.error!, /fetch failed/);

  online = true;
  (await server.socket(0)).open();
  const loaded = await stateWhere(chats, (s) => s.error === undefined && s.chats.length === 1);
  assert.equal(loaded.chats[0]!.title, 'From the server');
  chats.dispose();
  server.client.stop();
});

test('the member lists of direct chats are not read again after a reconnect: one request each for a long list', { timeout: 10_000 }, async () => {
  const server = fakeServer((call) => {
    if (call.path.startsWith('/chats?')) return json(200, { chats: [chat('d1', { type: 'direct' }), chat('g1')], next_cursor: null });
    return json(200, { members: [member('x', 'me')], next_cursor: null });
  });
  const socket = await server.online();
  const chats = new ChatBloc(server.client);
  await chats.add({ type: 'load' });
  await chats.add({ type: 'loadMembers', chatId: 'd1' });
  await chats.add({ type: 'loadMembers', chatId: 'g1' });
  const asked = server.calls.length;

  socket.closeWith(1006);
  (await server.socket(1)).open();
  await chats.add({ type: 'load' }); // behind the reloads the reconnect queued
  assert.deepEqual(server.calls.slice(asked).map((c) => c.path.split('?')[0]), ['/chats', '/chats/g1/members', '/chats']);
  chats.dispose();
  server.client.stop();
});
