// Edits, reactions and deletions are kept like sends: shown at once, carried out when the
// connection is up (after a reload too), and a refusal stays visible until retried or discarded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChatBloc, MemoryCache, MemoryOutboxStorage, MessageBloc, withPendingActions,
  type ChatListState, type MessageWindowState, type PendingAction,
} from '../../src/index.js';
import { fakeServer, json, refusal, type RestCall } from '../support/fake-server.js';
import { member, message } from '../support/models.js';

/** Resolves with the bloc's first state (the current one included) that `ready` accepts. */
function until<S extends object>(bloc: { subscribe(listener: (state: S) => void): () => void }, ready: (state: S) => boolean): Promise<S> {
  return new Promise((resolve) => {
    let stop: (() => void) | undefined;
    let done = false;
    stop = bloc.subscribe((state) => {
      if (done || !ready(state)) return;
      done = true;
      stop?.();
      resolve(state);
    });
    if (done) stop();
  });
}

const messageCalls = (calls: RestCall[]) => calls.filter((c) => c.path.startsWith('/messages/')).map((c) => `${c.method} ${c.path}`);

test('actions made offline wait through every reconnect attempt, survive a reload and are carried out in order once online', async () => {
  const storage = new MemoryOutboxStorage<PendingAction>();
  const cache = new MemoryCache();
  await cache.putMessages('c1', [message(1), message(2), message(3)]);
  const down = () => { throw new TypeError('network down'); };
  const first = fakeServer(down, { actionStorage: storage, cache });
  await first.client.start();
  const bloc = new MessageBloc(first.client, 'c1');
  await bloc.add({ type: 'open' }).catch(() => undefined);
  await bloc.add({ type: 'edit', messageId: 'm1', content: 'edited offline' });
  await bloc.add({ type: 'react', messageId: 'm2', emoji: '👍' });
  await bloc.add({ type: 'delete', messageId: 'm3' });
  // Offline for longer than any retry: the connection fails again and again, the actions wait.
  for (let attempt = 0; attempt < 5; attempt++) (await first.socket(attempt)).closeWith(1006);
  await first.socket(5);
  assert.deepEqual(messageCalls(first.calls), []);
  assert.deepEqual(bloc.state.actions.map((a) => [a.action.type, a.status]), [['edit', 'pending'], ['react', 'pending'], ['delete', 'pending']]);
  const shown = bloc.state.messages.map((m) => withPendingActions(m, bloc.state.actions, 'me'));
  assert.deepEqual(shown.map((m) => [m.content, m.is_edited, m.is_deleted, m.reactions.map((r) => `${r.emoji}${r.count}`)]),
    [['edited offline', true, false, []], ['m2', false, false, ['👍1']], ['', false, true, []]]);
  bloc.dispose();
  first.client.stop();

  // A reload: the next client finds them in storage and carries them out once its socket opens.
  const server = {
    m1: message(1, { content: 'edited offline', is_edited: true, version: 4 }),
    m2: message(2, { version: 5, reactions: [{ emoji: '👍', count: 1, user_ids: ['me'] }] }),
    m3: message(3, { version: 6, content: '', is_deleted: true }),
  } as Record<string, ReturnType<typeof message>>;
  const second = fakeServer((call) => {
    const id = call.path.split('/')[2]!;
    if (call.method === 'PUT' && call.path === '/messages/m1') return json(200, server.m1);
    if (call.method === 'DELETE' && call.path === '/messages/m3') return refusal(409, 'conflict'); // deleted already: done
    if (call.method === 'GET' && call.path.startsWith('/messages/')) return json(200, server[id]);
    if (call.path.startsWith('/messages/')) return json(204);
    return refusal(404, 'not_found');
  }, { actionStorage: storage, cache });
  const reloaded = new MessageBloc(second.client, 'c1');
  assert.equal(reloaded.state.actions.length, 0);
  await second.online();
  await until<MessageWindowState>(reloaded, (s) => s.actions.length === 0);
  assert.deepEqual(messageCalls(second.calls), [
    'PUT /messages/m1', // its answer is the edited message
    `PUT /messages/m2/reactions/${encodeURIComponent('👍')}`, 'GET /messages/m2',
    'DELETE /messages/m3', 'GET /messages/m3',
  ]);
  assert.deepEqual(second.calls.find((c) => c.path === '/messages/m1')!.json, { content: 'edited offline' });
  assert.deepEqual((await cache.messages('c1')).map((m) => [m.content, m.is_deleted, m.reactions.length]),
    [['edited offline', false, 0], ['m2', false, 1], ['', true, 0]]);
  assert.deepEqual(await storage.load(), []);
  reloaded.dispose();
  second.client.stop();
});

test('a refused action stays, failed with its reason, until it is retried or discarded', async () => {
  let refuse = true;
  const { client, calls, online } = fakeServer((call) => {
    if (call.method === 'PUT' && call.path === '/messages/m1') return refuse ? refusal(403, 'forbidden') : json(200, message(1, { content: 'again', version: 9 }));
    if (call.method === 'DELETE') return refusal(404, 'not_found');
    if (call.method === 'GET') return json(200, message(1, { content: 'again', version: 9 }));
    return refusal(404, 'not_found');
  });
  await online();
  const bloc = new MessageBloc(client, 'c1');
  await bloc.add({ type: 'edit', messageId: 'm1', content: 'again' });
  const failed = await until<MessageWindowState>(bloc, (s) => s.actions[0]?.status === 'failed');
  assert.equal(failed.actions[0]!.error?.code, 'forbidden');
  // A refused action is not shown as done.
  assert.equal(withPendingActions(message(1), failed.actions, 'me').content, 'm1');

  refuse = false;
  await bloc.add({ type: 'retry', clientId: failed.actions[0]!.client_id });
  await until<MessageWindowState>(bloc, (s) => s.actions.length === 0);
  assert.equal(calls.filter((c) => c.method === 'PUT').length, 2);

  await bloc.add({ type: 'delete', messageId: 'm2' });
  const refused = await until<MessageWindowState>(bloc, (s) => s.actions[0]?.status === 'failed');
  assert.equal(refused.actions[0]!.error?.code, 'not_found');
  await bloc.add({ type: 'discard', clientId: refused.actions[0]!.client_id });
  assert.deepEqual(bloc.state.actions, []);
  assert.equal(calls.filter((c) => c.method === 'DELETE').length, 1);
  bloc.dispose();
  client.stop();
});

test('a reaction and its removal show at once on top of the server\'s reactions', () => {
  const base = message(1, { reactions: [{ emoji: '👍', count: 1, user_ids: ['bob'] }] });
  const action = (type: 'react' | 'unreact', emoji: string, status: PendingAction['status'] = 'pending') =>
    ({ client_id: `${type}${emoji}`, chat_id: 'c1', message_id: 'm1', action: { type, emoji }, status, attempts: 0, position: 0, created_at: '' }) as PendingAction;
  const reacted = withPendingActions(base, [action('react', '👍'), action('react', '❤️')], 'me');
  assert.deepEqual(reacted.reactions, [{ emoji: '👍', count: 2, user_ids: ['bob', 'me'] }, { emoji: '❤️', count: 1, user_ids: ['me'] }]);
  const unreacted = withPendingActions(reacted, [action('unreact', '❤️'), action('unreact', '👍', 'failed')], 'me');
  assert.deepEqual(unreacted.reactions, [{ emoji: '👍', count: 2, user_ids: ['bob', 'me'] }]);
  assert.equal(withPendingActions(base, [], 'me'), base);
});

test('an offline start shows cached members at once, not after the chat list\'s REST attempts fail', { timeout: 5_000 }, async () => {
  const cache = new MemoryCache();
  await cache.putMembers('c1', [member('c1', 'bob', { user: { ...member('c1', 'bob').user, display_name: 'Bobby' } })]);
  // The server never answers: behind the queue, the cached members would wait forever.
  const { client } = fakeServer(() => new Promise<Response>(() => undefined), { cache });
  const chats = new ChatBloc(client);
  void chats.add({ type: 'load' }).catch(() => undefined);
  void chats.add({ type: 'loadMembers', chatId: 'c1' }).catch(() => undefined);
  const shown = await until<ChatListState>(chats, (s) => s.members['c1'] !== undefined);
  assert.deepEqual(shown.members['c1']!.map((m) => m.user.display_name), ['Bobby']);
  chats.dispose();
  client.stop();
});
