import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDeletion, chatWithNewMessage, chatWithRead, mergeChats, mergeMessages, type ChatModel, type MessageModel } from '../../src/index.js';

const message = (seq: number, version: number, content = `m${seq}`): MessageModel => ({
  id: `id${seq}`, chat_id: 'c', sender_id: 'alice', seq, version, type: 'text', content, media: null, reply_to_id: null,
  reactions: [], is_edited: false, is_deleted: false, metadata: {}, client_id: null, pinned_at: null, pinned_by: null,
  forwarded_from: null, thread_root_id: null, thread: null, entities: [], created_at: `2026-01-01T00:00:0${seq}.000Z`, updated_at: '',
});

test('changes apply by version, in any order, seq ascending', () => {
  const edited = { ...message(1, 5, 'edited'), is_edited: true };
  const a = mergeMessages(mergeMessages([], [message(2, 2), message(1, 1)]), [edited]);
  const b = mergeMessages(mergeMessages([], [edited]), [message(1, 1), message(2, 2)]);
  assert.deepEqual(a, b);
  assert.deepEqual(a.map((m) => m.content), ['edited', 'm2']);
});

test('a deletion wins only over older versions', () => {
  const list = [message(1, 3)];
  assert.equal(applyDeletion(list, 'id1', 2), list);
  const deleted = applyDeletion(list, 'id1', 4)[0]!;
  assert.equal(deleted.is_deleted, true);
  assert.equal(deleted.content, '');
  assert.equal(deleted.version, 4);
});

const chat = (id: string, lastSeq: number, lastRead: number, at: string): ChatModel => ({
  id, type: 'group', title: id, avatar_url: null, settings: {} as ChatModel['settings'], metadata: {}, member_count: 2,
  last_message: null, last_seq: lastSeq, version: lastSeq, created_at: at, updated_at: at,
  handle: null, is_public: false, subscriber_count: null, large: false,
  me: { role: 'member', custom_role: null, last_read_seq: lastRead, unread_count: lastSeq - lastRead, unread_mention_count: 0, is_muted: false,
    permissions: [] },
});

test('the chat list keeps the most recent activity first; unread counts follow messages and reads', () => {
  const list = mergeChats([], [chat('old', 1, 1, '2025-01-01T00:00:00.000Z'), chat('new', 1, 1, '2025-01-02T00:00:00.000Z')]);
  assert.deepEqual(list.map((c) => c.id), ['new', 'old']);
  const bumped = chatWithNewMessage(list[1]!, message(2, 2), 'bob');
  assert.equal(bumped.me.unread_count, 1);
  assert.deepEqual(mergeChats(list, [bumped]).map((c) => c.id), ['old', 'new']);
  assert.equal(chatWithNewMessage(list[1]!, message(2, 2), 'alice').me.unread_count, 0, 'own messages are read');
  assert.equal(chatWithRead(bumped, 2).me.unread_count, 0);
  assert.equal(chatWithRead(bumped, 0), bumped, 'never back');
});

test('a change without the reader\'s poll votes (as events carry it) keeps the votes known', () => {
  const poll = { question: 'Q?', options: [], multiple_choice: false, anonymous: false, closes_at: null, closed_at: null, total_voters: 1 };
  const voted = { ...message(1, 1), type: 'poll' as const, poll: { ...poll, my_votes: [0] } };
  const reacted = { ...message(1, 2), type: 'poll' as const, poll, reactions: [{ emoji: '👍', count: 1, user_ids: ['bob'] }] };
  const [merged] = mergeMessages([voted], [reacted]);
  assert.deepEqual(merged!.poll?.my_votes, [0]);
  assert.equal(merged!.reactions.length, 1);
  const retracted = { ...reacted, version: 3, poll: { ...poll, my_votes: [] } };
  assert.deepEqual(mergeMessages([voted], [retracted])[0]!.poll?.my_votes, [], 'votes the change carries win');
});
