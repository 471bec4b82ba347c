// Past 10 users of a reaction the server names only the first 10, plus the reader of a read and
// the user who made the change of an event: the client keeps its own user's reaction from what
// it read, and reads the message again when an event cannot tell whether the user took it back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryCache, withPendingActions, type PendingAction, type ReactionModel } from '../../src/index.js';
import { fakeServer, json, refusal, settled, type Routes } from '../support/fake-server.js';
import { message } from '../support/models.js';

const firstTen = Array.from({ length: 10 }, (_, i) => `u${i + 1}`);
const thumbs = (count: number, userIds: string[]): ReactionModel[] => [{ emoji: '👍', count, user_ids: userIds }];

async function reactedAsEleventh(routes: Routes = () => refusal(404, 'not_found')) {
  const cache = new MemoryCache();
  // As read by `me`, the eleventh of twelve to react: named after the first ten.
  await cache.putMessages('c1', [message(1, { version: 2, reactions: thumbs(12, [...firstTen, 'me']) })]);
  const server = fakeServer(routes, { cache });
  const socket = await server.online();
  const held = async () => (await cache.messages('c1'))[0]!;
  return { server, socket, held };
}

test('a reaction event that does not name the user (a thirteenth reacted) keeps the user\'s own reaction', async () => {
  const { server, socket, held } = await reactedAsEleventh();
  socket.push('message.updated', { message: message(1, { version: 3, reactions: thumbs(13, [...firstTen, 'u13']) }) });
  await settled();
  const [reaction] = (await held()).reactions;
  assert.equal(reaction!.count, 13);
  assert.ok(reaction!.user_ids.includes('me'), 'still mine');

  const pending = (type: 'react' | 'unreact'): PendingAction => ({
    client_id: type, chat_id: 'c1', message_id: 'm1', action: { type, emoji: '👍' }, status: 'pending', attempts: 0,
    created_at: '', position: 0,
  });
  assert.equal(withPendingActions(await held(), [pending('react')], 'me').reactions[0]!.count, 13, 'a repeated react is not counted twice');
  assert.equal(withPendingActions(await held(), [pending('unreact')], 'me').reactions[0]!.count, 12, 'a pending unreact shows');
  assert.equal(server.calls.length, 0, 'a reaction added by someone else needs no read');
  server.client.stop();
});

test('when a reaction the user is kept in loses a user, the message is read again to learn whose it was', { timeout: 5000 }, async () => {
  const readAsMe = message(1, { version: 3, reactions: thumbs(11, firstTen) });
  const { server, socket, held } = await reactedAsEleventh((call) => (call.path === '/messages/m1' ? json(200, readAsMe) : refusal(404, 'not_found')));
  const readApplied = new Promise<void>((resolve) => server.client.subscribe((change) => {
    if (change.kind === 'messages' && change.messages.some((m) => m.version === 3 && !m.reactions[0]!.user_ids.includes('me'))) resolve();
  }));
  // Taken back on another device: the event names the first ten, as it would for anyone's removal.
  socket.push('message.updated', { message: message(1, { version: 3, reactions: thumbs(11, firstTen) }) });
  await readApplied;
  assert.deepEqual(server.calls.map((c) => c.path), ['/messages/m1']);
  assert.ok(!(await held()).reactions[0]!.user_ids.includes('me'), 'the read says it is no longer mine');
  server.client.stop();
});
