// Against a server with a tight message rate limit: the REST client waits out 429 by
// Retry-After for a send with a client_id, and the outbox backs off on rate_limited and
// still delivers every message once, in order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfabError } from '../../src/index.js';
import { contractProblems, pair, until } from '../support/clients.js';
import { databaseConfigured, serverForSuite, skipReason } from '../support/server.js';

describe('rate limits', { skip: databaseConfigured() ? false : skipReason }, () => {
  const suite = serverForSuite({ CONFAB_LIMIT_MESSAGE_BURST: '2', CONFAB_LIMIT_MESSAGE_RATE: '5' });
  const { clients } = suite;

  test('a REST send with a client_id waits out 429; one without reports rate_limited', async () => {
    const { alice, bob, chat } = await pair(suite.server.baseUrl);
    clients.push(alice, bob);
    // All at once, so that however slow the machine the sends arrive faster than the limit refills
    // (2 at once, then 5 a second): one sent one by one could wait out the limit by itself.
    const burst = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => alice.rest.sendMessage(chat.id, { type: 'text', content: `plain ${i}` })),
    );
    const limited = burst.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))[0];
    assert.ok(limited instanceof ConfabError, 'the burst runs out');
    assert.equal(limited.code, 'rate_limited');
    assert.equal(limited.status, 429);
    assert.ok(limited.retryAfterMs !== undefined);
    for (let i = 0; i < 5; i++) {
      const sent = await alice.rest.sendMessage(chat.id, { type: 'text', content: `kept ${i}`, client_id: `kept-${i}` });
      assert.equal(sent.content, `kept ${i}`);
    }
  });

  test('the outbox backs off on rate_limited and delivers each message once, in order', async () => {
    const { alice, bob, chat } = await pair(suite.server.baseUrl);
    clients.push(alice, bob);
    const count = 12;
    for (let i = 0; i < count; i++) await alice.send(chat.id, { type: 'text', content: `q${i}` });
    await until(alice, (c) => c.outbox.entries().length === 0, 'outbox drained');
    const stored = (await alice.rest.listMessages(chat.id, { limit: 50 })).messages.reverse();
    assert.deepEqual(stored.map((m) => m.content), Array.from({ length: count }, (_, i) => `q${i}`));
  });

  // Last: the frames of every test above.
  test('every event the server pushed matches docs/asyncapi.yaml', () => {
    assert.deepEqual([...new Set(contractProblems)], []);
  });
});
