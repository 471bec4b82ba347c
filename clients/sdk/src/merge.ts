// Pure functions that apply server changes to immutable lists: each change wins only when its
// version is newer than what the list holds, so live events and since_version pages can
// arrive in any order and still give the same result.
import type { ChatMemberModel, ChatModel, MessageModel, PollModel, ReactionModel } from './types.js';

/** Messages by seq ascending, each at its highest version. */
export function mergeMessages(list: readonly MessageModel[], changes: readonly MessageModel[]): MessageModel[] {
  if (changes.length === 0) return list as MessageModel[];
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const change of changes) {
    const current = byId.get(change.id);
    if (!current) byId.set(change.id, change);
    else if (current.version <= change.version) byId.set(change.id, withKnownVotes(current, change));
  }
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

/** Thread replies are filed under their root (docs/api.md, Threads), not in the chat's main timeline. */
export const inMainTimeline = (message: MessageModel): boolean => !message.thread_root_id;

/**
 * The events every member receives alike leave out the reader's own poll votes (`my_votes`):
 * a change without them keeps the ones the client knew.
 */
export function withKnownVotes(current: MessageModel, change: MessageModel): MessageModel {
  const known = current.poll?.my_votes;
  if (!change.poll || change.poll.my_votes || !known) return change;
  return { ...change, poll: { ...change.poll, my_votes: known } };
}

/**
 * A copy of a message from an event names at most the first 10 users of each reaction, plus the
 * one who made the change (docs/api.md, Messages): a reaction of the user's own that such a copy
 * does not name, while naming fewer users than it counts, is kept from the copy held.
 */
export function withMyReactions(held: MessageModel, change: MessageModel, myId: string | undefined): MessageModel {
  if (myId === undefined) return change;
  let kept = false;
  const reactions = change.reactions.map((reaction) => {
    if (!unnamedMayBeMe(reaction, myId) || !namesMe(held, reaction.emoji, myId)) return reaction;
    kept = true;
    return { ...reaction, user_ids: [...reaction.user_ids, myId] };
  });
  return kept ? { ...change, reactions } : change;
}

/**
 * Whether the user may have taken back a reaction `withMyReactions` keeps: its count fell, and
 * a copy that names only some of its users cannot say whose it was.
 */
export function mayHaveTakenBackMyReaction(held: MessageModel, change: MessageModel, myId: string | undefined): boolean {
  if (myId === undefined) return false;
  return change.reactions.some((reaction) => {
    const before = held.reactions.find((r) => r.emoji === reaction.emoji);
    return before !== undefined && reaction.count < before.count && unnamedMayBeMe(reaction, myId) && namesMe(held, reaction.emoji, myId);
  });
}

const unnamedMayBeMe = (reaction: ReactionModel, myId: string) =>
  !reaction.user_ids.includes(myId) && reaction.user_ids.length < reaction.count;

const namesMe = (message: MessageModel, emoji: string, myId: string) =>
  message.reactions.some((r) => r.emoji === emoji && r.user_ids.includes(myId));

/** Applies a `poll.updated` event (a vote or a close) to the poll message it concerns. */
export function messageWithPoll(message: MessageModel, poll: PollModel, version: number): MessageModel {
  if (message.version >= version) return message;
  return withKnownVotes(message, { ...message, version, poll });
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

const activity = (chat: ChatModel) => chat.last_message?.created_at ?? chat.created_at;

/**
 * The chat list, most recent activity first (as `GET /chats` orders it: the last main-timeline
 * message, or creation; a thread reply moves neither), each chat at its highest version.
 */
export function mergeChats(list: readonly ChatModel[], changes: readonly ChatModel[]): ChatModel[] {
  const byId = new Map(list.map((c) => [c.id, c]));
  for (const change of changes) {
    const current = byId.get(change.id);
    if (!current || current.version <= change.version) byId.set(change.id, change);
  }
  return [...byId.values()].sort((a, b) => (activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : 0));
}

/**
 * A new message in a chat of the list: last message, last_seq and (for others' messages) the
 * unread count. A thread reply counts as unread but is not the chat's last message, which is
 * the newest of the main timeline (docs/api.md, Threads).
 */
export function chatWithNewMessage(chat: ChatModel, message: MessageModel, myId: string | undefined): ChatModel {
  if (message.seq <= chat.last_seq) return chat;
  const mine = message.sender_id === myId;
  const lastRead = mine ? message.seq : chat.me.last_read_seq;
  return {
    ...chat,
    last_message: inMainTimeline(message) ? message : chat.last_message,
    last_seq: message.seq,
    version: Math.max(chat.version, message.version),
    me: { ...chat.me, last_read_seq: lastRead, unread_count: Math.max(0, message.seq - lastRead) },
  };
}

/** The chat list's preview follows the changes (edit, deletion, poll) of the message it shows. */
export function chatWithChangedLastMessage(chat: ChatModel, messageId: string, change: (last: MessageModel) => MessageModel): ChatModel {
  const last = chat.last_message;
  if (last?.id !== messageId) return chat;
  const next = change(last);
  if (next.version <= last.version) return chat;
  return { ...chat, last_message: next, version: Math.max(chat.version, next.version) };
}

/**
 * The caller's own member record changed (a role, a mute): the chat's `me` follows. Its
 * `permissions` also depend on the chat's settings, so they come with the chat from the server.
 */
export function chatWithMyMembership(chat: ChatModel, member: ChatMemberModel): ChatModel {
  return { ...chat, me: { ...chat.me, role: member.role, custom_role: member.custom_role, is_muted: member.is_muted } };
}

/** A member joined or left: the count follows (never below zero). */
export function chatWithMemberCount(chat: ChatModel, delta: number): ChatModel {
  return { ...chat, member_count: Math.max(0, chat.member_count + delta) };
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
