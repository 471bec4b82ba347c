// An expired or revoked token ends the session: the app hears it once, whichever way the server said it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeServer, json, refusal, settled } from '../support/fake-server.js';

test('a connection refused before opening, with GET /users/me answering 401, ends the client and tells the app once', async () => {
  const server = fakeServer((call) => (call.path === '/users/me' ? refusal(401, 'unauthorized') : refusal(404, 'not_found')));
  let told = 0;
  server.client.onTokenRefused(() => told++);
  await server.client.start();
  (await server.socket(0)).closeWith(1006);
  while (told === 0) await settled();
  assert.deepEqual(server.calls.map((c) => `${c.method} ${c.path}`), ['GET /users/me']);
  assert.equal(server.client.state, 'offline');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(server.sockets.length, 1, 'no reconnecting');
  assert.equal(told, 1);
});

test('with the token good, a refused attempt is retried', async () => {
  const server = fakeServer((call) => (call.path === '/users/me' ? json(200, { id: 'me' }) : refusal(404, 'not_found')));
  let told = 0;
  server.client.onTokenRefused(() => told++);
  await server.client.start();
  (await server.socket(0)).closeWith(1006);
  (await server.socket(1)).open();
  assert.equal(server.client.state, 'online');
  assert.equal(told, 0);
  server.client.stop();
});

test('a close with 4001 or any REST call answered 401 ends the session the same way', async () => {
  const closed = fakeServer();
  let toldClosed = 0;
  closed.client.onTokenRefused(() => toldClosed++);
  (await closed.online()).closeWith(4001);
  assert.equal(toldClosed, 1);

  const rest = fakeServer(() => refusal(401, 'unauthorized'));
  let toldRest = 0;
  rest.client.onTokenRefused(() => toldRest++);
  await rest.online();
  await assert.rejects(rest.client.rest.listChats());
  await assert.rejects(rest.client.rest.chat('c1'));
  assert.equal(toldRest, 1);
  assert.equal(rest.client.state, 'offline');
});

test('an app that subscribes after the refusal hears it at once', async () => {
  const server = fakeServer(() => refusal(401, 'unauthorized'));
  await assert.rejects(server.client.rest.me());
  let told = 0;
  server.client.onTokenRefused(() => told++);
  assert.equal(told, 1);
});
