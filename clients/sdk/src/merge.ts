// Pure functions that apply server changes to immutable lists: each change wins only when its
// version is newer than what the list holds, so live events and since_version pages can
// arrive in any order and still give the same result.
import type { ChatMemberModel, ChatModel, MessageModel } from './types.js';

/** Messages by seq ascending, each at its highest version. */
export function mergeMessages(list: readonly MessageModel[], changes: readonly MessageModel[]): MessageModel[] {
  if (changes.length === 0) return list as MessageModel[];
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const change of changes) {
    const current = byId.get(change.id);
    if (!current || current.version <= change.version) byId.set(change.id, change);
  }
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

/** The state of a message once deleted (contract: content "", no media, no reactions). */
export function deletedMessage(message: MessageModel, version: number): MessageModel {
  return { ...message, version, content: '', media: null, reactions: [], entities: [], is_deleted: true };
}

/** Applies a `message.deleted` event to the messages it concerns. */
export function applyDeletion(list: readonly MessageModel[], messageId: string, version: number): MessageModel[] {
  const index = list.findIndex((m) => m.id === messageId);
  if (index < 0 || list[index]!.version >= version) return list as MessageModel[];
  const next = list.slice();
  next[index] = deletedMessage(list[index]!, version);
  return next;
}

export function removeMessages(list: readonly MessageModel[], ids: readonly string[]): MessageModel[] {
  if (ids.length === 0) return list as MessageModel[];
  const gone = new Set(ids);
  return list.filter((m) => !gone.has(m.id));
}

/** The largest version among messages, or `floor` when none is larger. */
export function maxVersion(messages: readonly { version: number }[], floor = 0): number {
  return messages.reduce((max, m) => Math.max(max, m.version), floor);
}

const activity = (chat: ChatModel) => chat.last_message?.created_at ?? chat.updated_at;

/** The chat list, most recent activity first (as `GET /chats` orders it), each chat at its highest version. */
export function mergeChats(list: readonly ChatModel[], changes: readonly ChatModel[]): ChatModel[] {
  const byId = new Map(list.map((c) => [c.id, c]));
  for (const change of changes) {
    const current = byId.get(change.id);
    if (!current || current.version <= change.version) byId.set(change.id, change);
  }
  return [...byId.values()].sort((a, b) => (activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : 0));
}

/** A new message in a chat of the list: last message, last_seq and (for others' messages) the unread count. */
export function chatWithNewMessage(chat: ChatModel, message: MessageModel, myId: string | undefined): ChatModel {
  if (message.seq <= chat.last_seq) return chat;
  const mine = message.sender_id === myId;
  const lastRead = mine ? message.seq : chat.me.last_read_seq;
  return {
    ...chat,
    last_message: message,
    last_seq: message.seq,
    version: Math.max(chat.version, message.version),
    me: { ...chat.me, last_read_seq: lastRead, unread_count: Math.max(0, message.seq - lastRead) },
  };
}

/** The caller's read position moved (never back). */
export function chatWithRead(chat: ChatModel, lastReadSeq: number): ChatModel {
  if (lastReadSeq <= chat.me.last_read_seq) return chat;
  return { ...chat, me: { ...chat.me, last_read_seq: lastReadSeq, unread_count: Math.max(0, chat.last_seq - lastReadSeq) } };
}

export function mergeMembers(list: readonly ChatMemberModel[], changes: readonly ChatMemberModel[]): ChatMemberModel[] {
  const byUser = new Map(list.map((m) => [m.user.id, m]));
  for (const change of changes) byUser.set(change.user.id, change);
  return [...byUser.values()];
}
