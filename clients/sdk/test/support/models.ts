// Complete models for unit tests, with the fields a test cares about overridden.
import type { ChatMemberModel, ChatModel, MessageModel, UserModel } from '../../src/index.js';

export function message(seq: number, fields: Partial<MessageModel> = {}): MessageModel {
  return {
    id: `m${seq}`, chat_id: 'c1', sender_id: 'ann', seq, version: seq, type: 'text', content: `m${seq}`, media: null,
    reply_to_id: null, reactions: [], is_edited: false, is_deleted: false, metadata: {}, client_id: null, pinned_at: null,
    pinned_by: null, forwarded_from: null, thread_root_id: null, thread: null, entities: [],
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), updated_at: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}

export function chat(id: string, fields: Partial<ChatModel> = {}): ChatModel {
  return {
    id, type: 'group', title: id, handle: null, is_public: false, subscriber_count: null, large: false, avatar_url: null,
    settings: {} as ChatModel['settings'], metadata: {}, member_count: 2, last_message: null, last_seq: 0, version: 0,
    created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z',
    me: { role: 'member', custom_role: null, last_read_seq: 0, unread_count: 0, unread_mention_count: 0, is_muted: false, permissions: ['post'] },
    ...fields,
  };
}

export function user(id: string, fields: Partial<UserModel> = {}): UserModel {
  return { id, username: id, display_name: id, avatar_url: null, bio: null, is_bot: false, created_at: '2026-01-01T00:00:00.000Z', ...fields };
}

export function member(chatId: string, userId: string, fields: Partial<ChatMemberModel> = {}): ChatMemberModel {
  return {
    chat_id: chatId, user: user(userId), role: 'member', custom_role: null, last_read_seq: 0, is_muted: false, muted_until: null,
    permissions: ['post'], joined_at: '2026-01-01T00:00:00.000Z', ...fields,
  };
}
