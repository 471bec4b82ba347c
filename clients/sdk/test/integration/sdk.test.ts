// The SDK against a real Confab on the test PostgreSQL: two users chatting through the stores,
// a resync after being away, refused sends, uploads, and a server restart in the middle of
// sending. Waits on the SDK's own events, never on fixed sleeps.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ChatBloc, ConfabClient, ConfabError, MessageBloc, UploadBloc, type ChatModel, type OutboxEntry } from '../../src/index.js';
import { connectedClient, contractProblems, nodeWebSocketFactory, pair as pairOn, stateWhere, until } from '../support/clients.js';
import { databaseConfigured, serverForSuite, skipReason } from '../support/server.js';

const skip = databaseConfigured() ? false : skipReason;

describe('the SDK against a real server', { skip }, () => {
  const suite = serverForSuite();
  const { clients, blocs } = suite;

  async function pair(): Promise<{ alice: ConfabClient; bob: ConfabClient; chat: ChatModel }> {
    const users = await pairOn(suite.server.baseUrl);
    clients.push(users.alice, users.bob);
    return users;
  }

  async function user(name: string): Promise<ConfabClient> {
    const client = await connectedClient(suite.server.baseUrl, name);
    clients.push(client);
    return client;
  }

  /** Resolves once the client's outbox entries satisfy `predicate`. */
  function outboxWhere(client: ConfabClient, predicate: (entries: readonly OutboxEntry[]) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate(client.outbox.entries())) return;
        stop();
        resolve();
      };
      const stop = client.outbox.subscribe(check);
      check();
    });
  }

  function messageBloc(client: ConfabClient, chatId: string): MessageBloc {
    const bloc = new MessageBloc(client, chatId, { typingIntervalMs: 1000, typingIdleMs: 60_000 });
    blocs.push(bloc);
    return bloc;
  }

  test('messages, edits, deletions, reactions, read receipts and typing reach the other side live', async () => {
    const { alice, bob, chat } = await pair();
    const aliceWindow = messageBloc(alice, chat.id);
    const bobWindow = messageBloc(bob, chat.id);
    const bobChats = new ChatBloc(bob);
    blocs.push(bobChats);
    await aliceWindow.add({ type: 'open' });
    await bobWindow.add({ type: 'open' });
    await bobChats.add({ type: 'load' });

    for (const text of ['one', 'two', 'three']) await aliceWindow.add({ type: 'send', request: { type: 'text', content: text } });
    // Shown at once, before any ack: optimistic entries with their client_id.
    assert.ok(aliceWindow.state.outgoing.length + aliceWindow.state.messages.length >= 3);
    assert.ok(aliceWindow.state.outgoing.every((e) => typeof e.client_id === 'string'));

    const seen = await stateWhere(bobWindow, (s) => s.messages.length === 3, 'bob sees three messages');
    assert.deepEqual(seen.messages.map((m) => m.content), ['one', 'two', 'three']);
    assert.deepEqual(seen.messages.map((m) => m.seq), [1, 2, 3]);
    const unread = await stateWhere(bobChats, (s) => s.chats.find((c) => c.id === chat.id)?.me.unread_count === 3, 'three unread');
    assert.equal(unread.chats[0]!.last_message?.content, 'three');
    await stateWhere(aliceWindow, (s) => s.messages.length === 3 && s.outgoing.length === 0, 'alice acked');

    const [one, two, three] = seen.messages;
    await aliceWindow.add({ type: 'edit', messageId: one!.id, content: 'one, edited' });
    await bobWindow.add({ type: 'react', messageId: two!.id, emoji: '👍' });
    await aliceWindow.add({ type: 'delete', messageId: three!.id });
    await bobWindow.add({ type: 'markRead', seq: 3 });

    const bobView = await stateWhere(bobWindow, (s) => s.messages[0]!.is_edited && s.messages[2]!.is_deleted && s.messages[1]!.reactions.length === 1, 'bob sees the changes');
    assert.equal(bobView.messages[0]!.content, 'one, edited');
    assert.equal(bobView.messages[2]!.content, '');
    const aliceView = await stateWhere(aliceWindow, (s) => s.messages[1]!.reactions[0]?.emoji === '👍' && s.readBy[bob.userId!] === 3, 'alice sees the reaction and the read receipt');
    assert.deepEqual(aliceView.messages[1]!.reactions[0]!.user_ids, [bob.userId]);
    await stateWhere(bobChats, (s) => s.chats.find((c) => c.id === chat.id)?.me.unread_count === 0, 'read clears the unread count');

    await aliceWindow.add({ type: 'input' });
    await stateWhere(bobWindow, (s) => s.typing.includes(alice.userId!), 'bob sees alice typing');
    await aliceWindow.add({ type: 'inputStopped' });
    await stateWhere(bobWindow, (s) => s.typing.length === 0, 'alice stopped typing');
  });

  test('after a reconnect, everything that happened while away is resynced; presence follows', async () => {
    const { alice, bob, chat } = await pair();
    const bobWindow = messageBloc(bob, chat.id);
    const first = await alice.rest.sendMessage(chat.id, { type: 'text', content: 'before' });
    const second = await alice.rest.sendMessage(chat.id, { type: 'text', content: 'to be deleted' });
    await bobWindow.add({ type: 'open' });
    assert.equal(bobWindow.state.messages.length, 2);

    const aliceChats = new ChatBloc(alice);
    blocs.push(aliceChats);
    bob.connection.stop();
    await stateWhere(aliceChats, (s) => s.presence[bob.userId!]?.online === false, 'alice sees bob go offline');
    await alice.rest.editMessage(first.id, { content: 'edited while away' });
    await alice.rest.deleteMessage(second.id);
    await alice.rest.addReaction(first.id, '🎉');
    await alice.rest.sendMessage(chat.id, { type: 'text', content: 'sent while away' });
    bob.connection.start();

    const state = await stateWhere(bobWindow, (s) => s.messages.length === 3 && s.messages[1]!.is_deleted && s.messages[0]!.reactions.length === 1, 'bob resynced');
    await stateWhere(aliceChats, (s) => s.presence[bob.userId!]?.online === true, 'alice sees bob back online');
    assert.equal(state.messages[0]!.content, 'edited while away');
    assert.equal(state.messages[2]!.content, 'sent while away');
  });

  test('a reload with the cache syncs what happened since, then goes live', async () => {
    const { alice, bob, chat } = await pair();
    const window = messageBloc(bob, chat.id);
    await alice.rest.sendMessage(chat.id, { type: 'text', content: 'seen' });
    await window.add({ type: 'open' });
    bob.stop();
    const edited = await alice.rest.sendMessage(chat.id, { type: 'text', content: 'while reloading' });
    await alice.rest.editMessage(edited.id, { content: 'edited while reloading' });

    // The same user, the same (persistent) cache: a page reload.
    const reloaded = new ConfabClient({
      baseUrl: suite.server.baseUrl, token: bob.rest.token!, userId: bob.userId, cache: bob.cache,
      webSocketFactory: nodeWebSocketFactory, reconnectBackoff: { baseMs: 50, capMs: 500 },
    });
    clients.push(reloaded);
    const resynced = new Promise<void>((resolve) => reloaded.subscribe((c) => { if (c.kind === 'resynced' && c.chatId === chat.id) resolve(); }));
    await reloaded.start();
    await resynced;
    const cached = await reloaded.cache.messages(chat.id);
    assert.deepEqual(cached.map((m) => m.content), ['seen', 'edited while reloading']);
  });

  test('a refused send shows why, does not hold back the next, and can be discarded', async () => {
    const { alice, chat } = await pair();
    const window = messageBloc(alice, chat.id);
    await window.add({ type: 'open' });
    await window.add({ type: 'send', request: { type: 'text', content: '' } });
    await window.add({ type: 'send', request: { type: 'text', content: 'fine' } });
    const state = await stateWhere(window, (s) => s.outgoing.some((e) => e.status === 'failed') && s.messages.length === 1, 'refusal');
    const refused = state.outgoing.find((e) => e.status === 'failed')!;
    assert.equal(refused.error?.code, 'bad_request');
    assert.equal(state.messages[0]!.content, 'fine');
    await window.add({ type: 'discard', clientId: refused.client_id });
    assert.equal(window.state.outgoing.length, 0);
  });

  test('REST errors carry the contract code and status', async () => {
    const { alice } = await pair();
    await assert.rejects(alice.rest.chat('00000000-0000-4000-8000-000000000000'), (error: unknown) => {
      assert.ok(error instanceof ConfabError);
      assert.equal(error.code, 'not_found');
      assert.equal(error.status, 404);
      return true;
    });
  });

  test('an upload reports progress and is sent as a message', async () => {
    const { alice, chat } = await pair();
    const window = messageBloc(alice, chat.id);
    await window.add({ type: 'open' });
    const uploads = new UploadBloc(alice);
    blocs.push(uploads);
    const progress: number[] = [];
    uploads.subscribe((s) => s.uploads[0] && progress.push(s.uploads[0].progress));
    await uploads.add({ type: 'add', upload: { chatId: chat.id, kind: 'image', mimeType: 'image/png', fileName: 'dot.png', bytes: onePixelPng, message: { content: 'a dot' } } });
    const done = await stateWhere(uploads, (s) => s.uploads[0]?.status === 'done', 'upload done');
    assert.equal(done.uploads[0]!.progress, 1);
    assert.equal(done.uploads[0]!.media?.mime_type, 'image/png');
    assert.ok(progress.some((p) => p > 0 && p <= 1));
    const state = await stateWhere(window, (s) => s.messages.some((m) => m.type === 'image'), 'image message');
    assert.equal(state.messages.find((m) => m.type === 'image')!.media?.id, done.uploads[0]!.media!.id);
  });

  test('a live photo: the still and its video uploaded as one media, sent as one image message, the video downloadable', async () => {
    const { alice, bob, chat } = await pair();
    const window = messageBloc(bob, chat.id);
    await window.add({ type: 'open' });
    const uploads = new UploadBloc(alice);
    blocs.push(uploads);
    const video = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../../../tests/fixtures/media/clip.webm', import.meta.url))));
    await uploads.add({
      type: 'add',
      upload: { chatId: chat.id, kind: 'image', mimeType: 'image/png', fileName: 'live.png', bytes: onePixelPng, liveVideo: { bytes: video, mimeType: 'video/webm' }, message: { content: '' } },
    });
    const done = await stateWhere(uploads, (s) => s.uploads[0]?.status === 'done', 'live photo uploaded');
    const live = done.uploads[0]!.media?.live_video;
    assert.equal(live?.mime_type, 'video/webm');
    assert.equal(live?.size_bytes, video.byteLength);
    assert.ok((live?.duration_ms ?? 0) > 0);
    const state = await stateWhere(window, (s) => s.messages.some((m) => m.media?.live_video?.url), 'the live photo arrives');
    const message = state.messages.find((m) => m.media?.live_video)!;
    assert.equal(message.type, 'image');
    const response = await fetch(`${suite.server.baseUrl}${message.media!.live_video!.url}`, { headers: { authorization: `Bearer ${bob.rest.token}` } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'video/webm');
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), video);
  });

  test('ChatBloc: keyset pages, a group with settings, members and admin actions', async () => {
    const owner = await user('owner');
    const [ann, ben, cid] = [await user('ann'), await user('ben'), await user('cid')];
    for (const other of [ann, ben, cid]) await owner.rest.createChat({ type: 'direct', member_ids: [other.userId!] });
    const chats = new ChatBloc(owner, 2);
    blocs.push(chats);
    await chats.add({ type: 'load' });
    assert.notEqual(chats.state.nextCursor, null, 'a first page of two');

    let group: ChatModel | undefined;
    await chats.add({ type: 'create', request: { type: 'group', title: 'Team', member_ids: [ann.userId!, ben.userId!] }, created: (c) => { group = c; } });
    assert.equal(chats.state.chats[0]!.id, group!.id, 'the new group is the most recent');
    await chats.add({ type: 'loadMore' });
    assert.equal(chats.state.chats.length, 4);
    assert.equal(chats.state.nextCursor, null);

    await chats.add({ type: 'update', chatId: group!.id, request: { title: 'Core team', settings: { only_admins_can_post: true } } });
    const renamed = chats.state.chats.find((c) => c.id === group!.id)!;
    assert.equal(renamed.title, 'Core team');
    assert.equal(renamed.settings.only_admins_can_post, true);

    await chats.add({ type: 'loadMembers', chatId: group!.id });
    assert.equal(chats.state.members[group!.id]!.length, 3);
    await chats.add({ type: 'addMembers', chatId: group!.id, userIds: [cid.userId!] });
    await chats.add({ type: 'updateMember', chatId: group!.id, userId: ann.userId!, request: { role: 'admin' } });
    await chats.add({ type: 'removeMember', chatId: group!.id, userId: ben.userId! });
    const members = chats.state.members[group!.id]!;
    assert.deepEqual(members.map((m) => m.user.id).sort(), [owner.userId, ann.userId, cid.userId].sort());
    assert.equal(members.find((m) => m.user.id === ann.userId)!.role, 'admin');

    // A member refused by the settings sees the reason on the send.
    const cidWindow = messageBloc(cid, group!.id);
    await cidWindow.add({ type: 'open' });
    await cidWindow.add({ type: 'send', request: { type: 'text', content: 'may I?' } });
    const refused = await stateWhere(cidWindow, (s) => s.outgoing[0]?.status === 'failed', 'refused');
    assert.equal(refused.outgoing[0]!.error?.code, 'forbidden');

    // The removed member's list drops the chat live.
    const benChats = new ChatBloc(ben);
    blocs.push(benChats);
    await benChats.add({ type: 'load' });
    assert.ok(benChats.state.chats.every((c) => c.id !== group!.id));
    await assert.rejects(chats.add({ type: 'removeMember', chatId: group!.id, userId: ben.userId! }), (e: unknown) => e instanceof ConfabError);
    assert.ok(chats.state.error);
  });

  test('MessageBloc pages back into history and knows where it ends', async () => {
    const { alice, chat } = await pair();
    for (let i = 1; i <= 5; i++) await alice.rest.sendMessage(chat.id, { type: 'text', content: `h${i}` });
    const window = new MessageBloc(alice, chat.id, { pageSize: 2 });
    blocs.push(window);
    await window.add({ type: 'open' });
    assert.deepEqual(window.state.messages.map((m) => m.content), ['h4', 'h5']);
    assert.equal(window.state.hasOlder, true);
    await window.add({ type: 'loadOlder' });
    await window.add({ type: 'loadOlder' });
    assert.deepEqual(window.state.messages.map((m) => m.content), ['h1', 'h2', 'h3', 'h4', 'h5']);
    assert.equal(window.state.hasOlder, false);
  });

  test('the outbox delivers each message exactly once, in order, across a server restart', async () => {
    const { alice, bob, chat } = await pair();
    const aliceWindow = messageBloc(alice, chat.id);
    const bobWindow = messageBloc(bob, chat.id);
    await aliceWindow.add({ type: 'open' });
    await bobWindow.add({ type: 'open' });
    const states: string[] = [];
    alice.connection.onState((s) => states.push(s));
    let resent = 0;
    alice.outbox.subscribe((change) => { if (change.kind === 'delivered' && change.entry.attempts > 1) resent++; });

    const count = 40;
    for (let i = 0; i < count; i++) await alice.send(chat.id, { type: 'text', content: `m${i}` });
    await until(alice, (c) => c.outbox.entries(chat.id).length <= count - 5, 'a few delivered');
    await suite.server.stop('SIGKILL');
    await until(alice, (c) => c.state === 'offline', 'alice offline');
    await suite.server.start();
    await until(alice, (c) => c.outbox.entries().length === 0, 'outbox drained');

    const stored = (await alice.rest.listMessages(chat.id, { limit: 200 })).messages.reverse();
    assert.deepEqual(stored.map((m) => m.content), Array.from({ length: count }, (_, i) => `m${i}`));
    assert.deepEqual(stored.map((m) => m.seq), Array.from({ length: count }, (_, i) => i + 1));
    assert.ok(states.includes('offline') && states.at(-1) === 'online', `states: ${states.join(',')}`);
    assert.ok(resent >= 1, 'the send in flight when the server died was sent again');

    const seen = await stateWhere(bobWindow, (s) => s.messages.length === count, 'bob has every message');
    assert.deepEqual(seen.messages.map((m) => m.content), stored.map((m) => m.content));
    const aliceSeen = await stateWhere(aliceWindow, (s) => s.messages.length === count && s.outgoing.length === 0, 'alice has every message once');
    assert.equal(new Set(aliceSeen.messages.map((m) => m.client_id)).size, count);
  });

  test('a text too large for a WebSocket frame goes over REST and is refused there, the connection staying up', async () => {
    const { alice, chat } = await pair();
    const states: string[] = [];
    alice.connection.onState((s) => states.push(s));
    const entry = await alice.send(chat.id, { type: 'text', content: 'x'.repeat(70_000) });
    await outboxWhere(alice, (entries) => entries.some((e) => e.client_id === entry.client_id && e.status === 'failed'));
    assert.equal(alice.outbox.entries()[0]!.error?.code, 'payload_too_large');
    const fine = await alice.send(chat.id, { type: 'text', content: 'after it' });
    await outboxWhere(alice, (entries) => entries.every((e) => e.client_id !== fine.client_id));
    assert.deepEqual(states, [], 'never dropped');
  });

  test('a file name outside ASCII is stored as given', async () => {
    const { alice, chat } = await pair();
    const media = await alice.rest.uploadMedia(chat.id, 'file', new TextEncoder().encode('olá'), { mimeType: 'text/plain', fileName: 'Relatório ünïcode 📎.txt' });
    assert.equal(media.file_name, 'Relatório ünïcode 📎.txt');
  });

  // Last: the frames of every test above.
  test('every event the server pushed matches docs/asyncapi.yaml', () => {
    assert.deepEqual([...new Set(contractProblems)], []);
  });
});

// A 1x1 PNG.
const onePixelPng = Uint8Array.from(Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));
