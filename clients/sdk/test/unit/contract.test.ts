// The integration tests' AsyncAPI checker (test/support/contract.ts) catches what it should.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverFrameProblems } from '../support/contract.js';

const uuid = '00000000-0000-4000-8000-000000000001';

test('a documented frame passes; missing, undocumented and mistyped fields are named', () => {
  assert.deepEqual(serverFrameProblems({ type: 'typing.update', data: { chat_id: uuid, user_id: uuid, is_typing: true } } as never), []);
  assert.deepEqual(serverFrameProblems({ type: 'typing.update', data: { chat_id: uuid, is_typing: 'yes', extra: 1 } } as never), [
    'typing.update.data.user_id: required, missing',
    'typing.update.data.is_typing: a string, documented as boolean',
    'typing.update.data.extra: not documented',
  ]);
  assert.deepEqual(serverFrameProblems({ type: 'no.such.event' }), ['no.such.event: not a documented server event']);
});

test('nested models are checked through the openapi.yaml references', () => {
  const problems = serverFrameProblems({ type: 'presence.update', data: { user_id: uuid, online: true, last_seen_at: 5 } } as never);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /last_seen_at: fits none/);
});
