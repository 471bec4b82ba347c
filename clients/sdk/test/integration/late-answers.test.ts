// Against a real server, answers that come late: a history page held back while another member
// edits, reacts and deletes; read receipts made before a window opens; a connection attempt
// that a proxy takes and never forwards. Waits on the SDK's own events, never on fixed sleeps.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import net from 'node:net';
import { once } from 'node:events';
import { ConfabClient, MessageBloc, RestClient } from '../../src/index.js';
import { contractProblems, nodeWebSocketFactory, signUp, stateWhere, until } from '../support/clients.js';
import { databaseConfigured, serverForSuite, skipReason } from '../support/server.js';

/** A TCP proxy to `port` that, while `hanging`, takes connections and forwards nothing (nor answers). */
async function proxyTo(port: number) {
  const held: net.Socket[] = [];
  let tellHeld: () => void = () => undefined;
  const proxy = { hanging: true, held, server: net.createServer(), firstHeld: new Promise<void>((resolve) => { tellHeld = resolve; }) };
  proxy.server.on('connection', (socket) => {
    if (proxy.hanging) {
      held.push(socket);
      tellHeld();
      return;
    }
    const upstream = net.connect(port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  proxy.server.listen(0, '127.0.0.1');
  await once(proxy.server, 'listening');
  const { port: proxyPort } = proxy.server.address() as net.AddressInfo;
  return Object.assign(proxy, {
    baseUrl: `http://127.0.0.1:${proxyPort}`,
    close: () => { held.forEach((s) => s.destroy()); proxy.server.close(); },
  });
}

describe('late answers', { skip: databaseConfigured() ? false : skipReason }, () => {
  const suite = serverForSuite();
  const { clients, blocs } = suite;

  async function user(name: string, options: { fetch?: typeof fetch } = {}): Promise<ConfabClient> {
    return start(await signUp(suite.server.baseUrl, name), options);
  }

  /** A client of a signed-up user (a device starting now), online. */
  async function start({ token, userId }: { token: string; userId: string }, options: { fetch?: typeof fetch } = {}): Promise<ConfabClient> {
    const client = new ConfabClient({
      baseUrl: suite.server.baseUrl, token, userId, webSocketFactory: nodeWebSocketFactory,
      reconnectBackoff: { baseMs: 50, capMs: 500 }, backoff: { baseMs: 50, capMs: 500 }, ...options,
    });
    clients.push(client);
    await client.start();
    await until(client, (c) => c.state === 'online', 'online');
    return client;
  }

  test('an edit, a reaction and a deletion made while bob\'s history page is held back win over the page', async () => {
    // Bob's history pages are answered by the server at once but handed to the SDK only when released.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let pageAnswered: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => { pageAnswered = resolve; });
    const slowPages = (async (url: string, init: RequestInit) => {
      const response = await fetch(url, init);
      if (!/\/messages\?limit=/.test(url)) return response;
      pageAnswered();
      await released;
      return response;
    }) as typeof fetch;
    const alice = await user('alice');
    const bob = await user('bob', { fetch: slowPages });
    const chat = await alice.rest.createChat({ type: 'direct', member_ids: [bob.userId!] });
    const sent = [];
    for (const content of ['one', 'two', 'three']) sent.push(await alice.rest.sendMessage(chat.id, { type: 'text', content }));

    const window = new MessageBloc(bob, chat.id);
    blocs.push(window);
    const opened = window.add({ type: 'open' });
    await answered;
    const deleted = new Promise<void>((resolve) => bob.subscribe((change) => { if (change.kind === 'messageDeleted') resolve(); }));
    await alice.rest.editMessage(sent[0]!.id, { content: 'one, edited' });
    await alice.rest.addReaction(sent[1]!.id, '👍');
    await alice.rest.deleteMessage(sent[2]!.id);
    await deleted; // every change's event has reached bob (one node: in version order)
    release();
    await opened;

    const shown = (messages: readonly { content: string; is_deleted: boolean; reactions: readonly unknown[] }[]) =>
      messages.map((m) => `${m.is_deleted ? '(deleted)' : m.content}:${m.reactions.length}`);
    const expected = ['one, edited:0', 'two:1', '(deleted):0'];
    assert.deepEqual(shown(window.state.messages), expected, 'the window');
    assert.deepEqual(shown(await bob.cache.messages(chat.id)), expected, 'the cache');
  });

  test('read receipts made before the device started show in readBy once a window opens', async () => {
    const aliceAccount = await signUp(suite.server.baseUrl, 'alice');
    const aliceRest = new RestClient({ baseUrl: suite.server.baseUrl, token: aliceAccount.token });
    const bob = await user('bob');
    const chat = await aliceRest.createChat({ type: 'direct', member_ids: [bob.userId!] });
    const sent = await aliceRest.sendMessage(chat.id, { type: 'text', content: 'read this' });
    await bob.rest.markRead(chat.id, sent.seq);

    const alice = await start(aliceAccount); // no read.updated reached this device
    const window = new MessageBloc(alice, chat.id);
    blocs.push(window);
    await window.add({ type: 'open' });
    const receipts = await stateWhere(window, (s) => s.readBy[bob.userId!] !== undefined, 'bob\'s receipt');
    assert.equal(receipts.readBy[bob.userId!], sent.seq);
  });

  test('a connection attempt a proxy takes and never forwards is given up, and the next one gets through (ws)', async () => {
    const proxy = await proxyTo(suite.server.port);
    try {
      const { token, userId } = await signUp(suite.server.baseUrl, 'carol');
      const client = new ConfabClient({
        baseUrl: proxy.baseUrl, token, userId, webSocketFactory: nodeWebSocketFactory, connectTimeoutMs: 500,
        reconnectBackoff: { baseMs: 50, capMs: 200 }, backoff: { baseMs: 50, capMs: 200 },
      });
      clients.push(client);
      await client.start();
      await proxy.firstHeld;
      proxy.hanging = false; // the proxy works again; the attempt it holds is never answered
      await until(client, (c) => c.state === 'online', 'online through the proxy');
      assert.equal(proxy.held.length, 1);
    } finally {
      proxy.close();
    }
  });

  // Last: the frames of every test above.
  test('every event the server pushed matches docs/asyncapi.yaml', () => {
    assert.deepEqual([...new Set(contractProblems)], []);
  });
});
