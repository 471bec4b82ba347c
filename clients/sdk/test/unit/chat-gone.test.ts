// A chat page whose chat is not the user's says so: a 404 opening it, or a removal while it is open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageBloc } from '../../src/index.js';
import { fakeServer, json, refusal, settled } from '../support/fake-server.js';
import { message } from '../support/models.js';

test('opening a chat the user cannot see marks it gone', async () => {
  const { client } = fakeServer(() => refusal(404, 'not_found'));
  const bloc = new MessageBloc(client, 'c9');
  await assert.rejects(bloc.add({ type: 'open' }));
  assert.equal(bloc.state.gone, true);
  bloc.dispose();
});

test('opening a chat by an id that is none (a mistyped address, answered 400 for chat_id) marks it gone', async () => {
  const { client } = fakeServer(() => refusal(400, 'bad_request', { field: 'chat_id' }));
  const bloc = new MessageBloc(client, 'not-a-uuid');
  await assert.rejects(bloc.add({ type: 'open' }));
  assert.equal(bloc.state.gone, true);
  bloc.dispose();
});

test('a user removed from a chat while it is open sees it gone', async () => {
  const { client, online } = fakeServer((call) => (call.path.startsWith('/chats/c1/messages')
    ? json(200, { messages: [message(1)], next_cursor: null }) : refusal(404, 'not_found')));
  const socket = await online();
  const bloc = new MessageBloc(client, 'c1');
  await bloc.add({ type: 'open' });
  assert.equal(bloc.state.gone, false);
  socket.push('member.removed', { chat_id: 'c1', user_id: 'someone else' });
  await settled();
  assert.equal(bloc.state.gone, false);
  socket.push('member.removed', { chat_id: 'c1', user_id: 'me' });
  await settled();
  assert.equal(bloc.state.gone, true);
  bloc.dispose();
  client.stop();
});
