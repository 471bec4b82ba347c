// Live events reach the cache and the stores: polls, thread replies, chats the list did not
// hold, the user's own role, member counts, users' names and the chat list's preview.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatBloc, MemoryCache, type PollModel } from '../../src/index.js';
import { fakeServer, json, refusal, settled, type Routes } from '../support/fake-server.js';
import { chat, member, message, user } from '../support/models.js';

const poll = (fields: Partial<PollModel> = {}): PollModel => ({
  question: 'Lunch?', options: [{ text: 'Pizza', voter_count: 1, voter_ids: ['ann'] }, { text: 'Soup', voter_count: 1, voter_ids: ['me'] }],
  multiple_choice: false, anonymous: false, closes_at: null, closed_at: null, total_voters: 2, ...fields,
});

const lastMessage = message(5, { type: 'poll', content: 'Lunch?', poll: poll({ my_votes: [1] }) });
const groupChat = chat('c1', { last_message: lastMessage, last_seq: 5, version: 5, member_count: 2 });

/** A client with `c1` cached (its last message the poll m5) and listed in a ChatBloc, online. */
async function withChat(routes?: Routes) {
  const cache = new MemoryCache();
  await cache.putChats([groupChat]);
  await cache.putMessages('c1', [message(4), lastMessage]);
  await cache.putMembers('c1', [member('c1', 'me'), member('c1', 'ann', { user: user('ann', { display_name: 'Ann', online: true }) })]);
  const server = fakeServer(routes, { cache });
  const chats = new ChatBloc(server.client);
  // The cached list and members show before the server answers.
  await chats.add({ type: 'load' }).catch(() => undefined);
  await chats.add({ type: 'loadMembers', chatId: 'c1' }).catch(() => undefined);
  const socket = await server.online();
  const listed = () => chats.state.chats.find((c) => c.id === 'c1')!;
  const done = () => { chats.dispose(); server.client.stop(); };
  return { server, socket, cache, chats, listed, done };
}

test('poll.updated updates the cached message and the preview, keeping the votes the event leaves out', async () => {
  const { socket, cache, listed, done } = await withChat();
  const closed = poll({ closed_at: '2026-01-02T00:00:00.000Z', total_voters: 3 });
  socket.push('poll.updated', { chat_id: 'c1', message_id: 'm5', version: 7, poll: closed });
  await settled();
  const stored = (await cache.messages('c1')).find((m) => m.id === 'm5')!;
  assert.equal(stored.version, 7);
  assert.equal(stored.poll?.closed_at, '2026-01-02T00:00:00.000Z');
  assert.deepEqual(stored.poll?.my_votes, [1], 'a close says nothing of my vote: the one known stays');
  assert.equal(listed().last_message?.poll?.total_voters, 3);
  assert.deepEqual(await cache.syncVersions(), { c1: 7 });

  socket.push('poll.updated', { chat_id: 'c1', message_id: 'm5', version: 6, poll: poll() });
  await settled();
  assert.equal((await cache.messages('c1')).find((m) => m.id === 'm5')!.poll?.closed_at, '2026-01-02T00:00:00.000Z', 'an older version changes nothing');
  done();
});

test('a thread reply counts as unread but is not the chat list\'s last message', async () => {
  const { socket, listed, done } = await withChat();
  socket.push('message.new', { message: message(6, { thread_root_id: 'm4' }) });
  await settled();
  assert.equal(listed().last_message?.id, 'm5');
  assert.equal(listed().last_seq, 6);
  assert.equal(listed().me.unread_count, 6);
  socket.push('message.new', { message: message(7) });
  await settled();
  assert.equal(listed().last_message?.id, 'm7');
  done();
});

test('the preview follows an edit and a deletion of the message it shows', async () => {
  const { socket, listed, done } = await withChat();
  socket.push('message.updated', { message: message(5, { version: 8, content: 'Lunch at noon?' }) });
  await settled();
  assert.equal(listed().last_message?.content, 'Lunch at noon?');
  socket.push('message.updated', { message: message(4, { version: 9, content: 'older, edited' }) });
  await settled();
  assert.equal(listed().last_message?.id, 'm5', 'another message\'s edit leaves it');
  socket.push('message.deleted', { chat_id: 'c1', message_id: 'm5', version: 10 });
  await settled();
  assert.equal(listed().last_message?.is_deleted, true);
  assert.equal(listed().last_message?.content, '');
  done();
});

test('a message for a chat the list does not hold brings the chat (a hidden direct chat reappearing)', async () => {
  const newIn = (seq: number) => message(seq, { chat_id: 'd9', created_at: `2026-02-01T00:00:0${seq}.000Z` });
  const direct = chat('d9', { type: 'direct', title: null, last_seq: 1, version: 1, last_message: newIn(1) });
  const { server, socket, chats, done } = await withChat((call) => (call.path === '/chats/d9' ? json(200, direct) : refusal(404, 'not_found')));
  socket.push('message.new', { message: newIn(1) });
  socket.push('message.new', { message: newIn(2) });
  await settled();
  assert.deepEqual(server.calls.filter((c) => c.path === '/chats/d9').length, 1, 'fetched once, then known');
  const listed = chats.state.chats.find((c) => c.id === 'd9');
  assert.equal(listed?.last_seq, 2);
  assert.equal(chats.state.chats[0]!.id, 'd9', 'the most recent activity first');
  done();
});

test('my role changed: chat.me follows at once, and the permissions come from the server\'s copy', async () => {
  const promoted = { ...groupChat, me: { ...groupChat.me, role: 'admin' as const, permissions: ['post' as const, 'manage_roles' as const] } };
  const { socket, listed, done } = await withChat((call) => (call.path === '/chats/c1' ? json(200, promoted) : refusal(404, 'not_found')));
  socket.push('member.updated', { chat_id: 'c1', member: member('c1', 'me', { role: 'admin' }) });
  await settled();
  assert.equal(listed().me.role, 'admin');
  assert.deepEqual(listed().me.permissions, ['post', 'manage_roles']);
  assert.equal(listed().last_message?.id, 'm5', 'the rest of the chat kept');
  done();
});

test('member_count follows members added and removed; a renamed user is renamed in the member lists', async () => {
  const { socket, cache, chats, listed, done } = await withChat();
  socket.push('member.added', { chat_id: 'c1', member: member('c1', 'bob') });
  await settled();
  assert.equal(listed().member_count, 3);
  socket.push('member.added', { chat_id: 'c1', member: member('c1', 'bob') });
  await settled();
  assert.equal(listed().member_count, 3, 'a member already known is not counted twice');
  socket.push('member.removed', { chat_id: 'c1', user_id: 'bob' });
  await settled();
  assert.equal(listed().member_count, 2);

  socket.push('user.updated', { user: user('ann', { display_name: 'Ann B.' }) });
  await settled();
  const ann = (await cache.members('c1')).find((m) => m.user.id === 'ann')!;
  assert.equal(ann.user.display_name, 'Ann B.');
  assert.equal(ann.user.online, true, 'presence, absent from the event, is kept');
  assert.equal(chats.state.members['c1']!.find((m) => m.user.id === 'ann')!.user.display_name, 'Ann B.');
  done();
});

test('the signed-in user renamed on another device: the client tells the app (user.updated of its own user)', async () => {
  const { server, socket, done } = await withChat();
  const users: string[] = [];
  server.client.subscribe((change) => { if (change.kind === 'user') users.push(`${change.user.id}:${change.user.display_name}`); });
  socket.push('user.updated', { user: user('me', { display_name: 'Me, renamed' }) });
  await settled();
  assert.deepEqual(users, ['me:Me, renamed']);
  done();
});

test('a deletion of a message the cache does not hold is told all the same (messageDeleted), so a quote fetched by id can follow it', async () => {
  const { server, socket, done } = await withChat();
  const deleted: string[] = [];
  server.client.subscribe((change) => { if (change.kind === 'messageDeleted') deleted.push(`${change.chatId}:${change.messageId}:${change.version}`); });
  // m1 is older than anything cached: before, nothing at all was told of its deletion.
  socket.push('message.deleted', { chat_id: 'c1', message_id: 'm1', version: 9 });
  socket.push('message.deleted', { chat_id: 'c1', message_id: 'm4', version: 10 });
  await settled();
  assert.deepEqual(deleted, ['c1:m1:9', 'c1:m4:10']);
  done();
});

test('an edit of a message the cache does not hold is told (messageUpdated) without entering the cache', async () => {
  const { server, socket, cache, done } = await withChat();
  const updated: string[] = [];
  server.client.subscribe((change) => { if (change.kind === 'messageUpdated') updated.push(`${change.message.id}:${change.message.content}`); });
  // m1 is older than anything cached (a reply's quote the app fetched by id).
  socket.push('message.updated', { message: message(1, { version: 9, content: 'edited long ago' }) });
  await settled();
  assert.deepEqual(updated, ['m1:edited long ago']);
  assert.deepEqual((await cache.messages('c1')).map((m) => m.id), ['m4', 'm5']);
  done();
});
