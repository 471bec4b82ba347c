// What the user does in a chat (a send, an edit, a reaction, a deletion) is kept in the outbox
// or the pending actions and shown at once, never behind a MessageBloc event that waits on the
// network: an `open` or `loadOlder` against a server that hangs (REST retries for up to 5 x
// 15 s), or a slow read mark. Before, the user's send waited behind them: nothing was shown
// and nothing stored, so a reload in between lost it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyValueOutboxStorage, MessageBloc, type OutboxEntry, type PendingAction } from '../../src/index.js';
import { fakeServer, json, settled, type RestCall } from '../support/fake-server.js';
import { message } from '../support/models.js';

/** A Web Storage stand-in (what the web client's localStorage is). */
class MemoryWebStorage {
  readonly items = new Map<string, string>();
  getItem(key: string) { return this.items.get(key) ?? null; }
  setItem(key: string, value: string) { this.items.set(key, value); }
  stored(key: string): Record<string, unknown> { return JSON.parse(this.items.get(key) ?? '{}') as Record<string, unknown>; }
}

/** REST calls the test answers when it wants to (a server that hangs until then). */
function hangingServer(hangs: (call: RestCall) => boolean) {
  const held: (() => void)[] = [];
  const storage = new MemoryWebStorage();
  const server = fakeServer((call) => {
    const answer = call.path.includes('/messages') ? json(200, { messages: [message(1)], next_cursor: null }) : json(204);
    if (!hangs(call)) return answer;
    return new Promise((resolve) => held.push(() => resolve(answer)));
  }, {
    outboxStorage: new KeyValueOutboxStorage<OutboxEntry>(storage, 'outbox'),
    actionStorage: new KeyValueOutboxStorage<PendingAction>(storage, 'actions'),
  });
  const releaseAll = () => { for (const release of held.splice(0)) release(); };
  return { ...server, storage, held, releaseAll };
}

test('a send, an edit, a reaction and a deletion are kept and shown at once while opening the chat hangs (offline start)', async () => {
  const { client, storage, held, releaseAll } = hangingServer((call) => call.method === 'GET');
  await client.start(); // the socket never opens: offline
  const bloc = new MessageBloc(client, 'c1');
  const opened = bloc.add({ type: 'open' });
  void bloc.add({ type: 'send', request: { type: 'text', content: 'typed while offline' } });
  void bloc.add({ type: 'edit', messageId: 'm1', content: 'edited' });
  void bloc.add({ type: 'react', messageId: 'm1', emoji: '👍' });
  void bloc.add({ type: 'delete', messageId: 'm1' });
  await settled();
  assert.equal(held.length, 1, 'the history page is still on its way');
  assert.deepEqual(bloc.state.outgoing.map((e) => e.request.content), ['typed while offline']);
  assert.deepEqual(bloc.state.actions.map((a) => a.action.type), ['edit', 'react', 'delete']);
  // Durable already: a reload now finds them.
  assert.deepEqual(Object.values(storage.stored('outbox')).map((e) => (e as OutboxEntry).request.content), ['typed while offline']);
  assert.equal(Object.keys(storage.stored('actions')).length, 3);

  releaseAll();
  await opened;
  assert.deepEqual(bloc.state.messages.map((m) => m.seq), [1]);
  bloc.dispose();
  client.stop();
});

test('a reply is shown at once while a read mark is slow to be answered, and read marks queued behind it collapse to the newest', async () => {
  const { client, calls, online, held, releaseAll } = hangingServer((call) => call.path.endsWith('/read'));
  await online();
  const bloc = new MessageBloc(client, 'c1');
  await bloc.add({ type: 'open' });
  const marks = [bloc.add({ type: 'markRead', seq: 5 })];
  await settled();
  assert.equal(held.length, 1, 'the first read mark hangs');
  marks.push(bloc.add({ type: 'markRead', seq: 6 }), bloc.add({ type: 'markRead', seq: 7 }));
  const sent = bloc.add({ type: 'send', request: { type: 'text', content: 'my reply' } });
  await settled();
  assert.deepEqual(bloc.state.outgoing.map((e) => e.request.content), ['my reply']);

  releaseAll();
  await settled();
  releaseAll();
  await Promise.all([...marks, sent]);
  assert.deepEqual(calls.filter((c) => c.path.endsWith('/read')).map((c) => c.json), [{ seq: 5 }, { seq: 7 }]);
  bloc.dispose();
  client.stop();
});

test('loadOlder still waits for open: the history lane keeps its order', async () => {
  const { client, calls, releaseAll } = hangingServer((call) => call.method === 'GET');
  await client.start();
  const bloc = new MessageBloc(client, 'c1');
  const opened = bloc.add({ type: 'open' });
  const older = bloc.add({ type: 'loadOlder' });
  await settled();
  assert.equal(calls.filter((c) => c.method === 'GET').length, 1, 'loadOlder has not asked yet');
  releaseAll();
  await Promise.all([opened, older]);
  // The page answered; the read receipts' member list, asked after it, is not in the history lane.
  assert.deepEqual(calls.map((c) => c.path.split('?')[0]), ['/chats/c1/messages', '/chats/c1/members']);
  bloc.dispose();
  client.stop();
});
