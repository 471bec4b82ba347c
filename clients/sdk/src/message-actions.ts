// Edits, deletions and reactions the user made that the server has not taken yet. Like sends
// (the outbox), each is shown at once, kept in storage across a reload and carried out once the
// connection is up, in order per chat; a refusal (not the sender any more, the message gone)
// is kept as failed with its reason until the app retries or discards it. Every action is
// idempotent on the server (an edit sets the content, a reaction is put or removed, a second
// delete is a 409 taken as done), so one repeated after a lost answer changes nothing more.
import { DurableQueue, type QueuedEntry, type QueueStorage } from './outbox.js';
import type { MessageModel } from './types.js';

export type MessageAction =
  | { type: 'edit'; content: string }
  | { type: 'delete' }
  | { type: 'react'; emoji: string }
  | { type: 'unreact'; emoji: string };

export interface PendingAction extends QueuedEntry {
  message_id: string;
  action: MessageAction;
  created_at: string;
}

export type PendingActionStorage = QueueStorage<PendingAction>;

export class PendingActions extends DurableQueue<PendingAction, void> {
  /** Queues an action on a message; it shows at once (withPendingActions) and is carried out as soon as possible. */
  enqueue(chatId: string, messageId: string, action: MessageAction): Promise<PendingAction> {
    return this.add({
      client_id: globalThis.crypto.randomUUID(),
      chat_id: chatId,
      message_id: messageId,
      action,
      status: 'pending',
      attempts: 0,
      created_at: new Date().toISOString(),
      position: this.nextPosition++,
    });
  }
}

/**
 * The message as it will be once the user's actions on it not yet taken are (refused ones
 * are not applied: the message stays as the server has it, beside the refusal).
 */
export function withPendingActions(message: MessageModel, actions: readonly PendingAction[], userId: string): MessageModel {
  let shown = message;
  for (const { message_id, action, status } of actions) {
    if (message_id !== message.id || status === 'failed' || shown.is_deleted) continue;
    switch (action.type) {
      case 'edit':
        shown = { ...shown, content: action.content, is_edited: true };
        break;
      case 'delete':
        shown = { ...shown, content: '', media: null, reactions: [], is_deleted: true };
        break;
      case 'react': {
        if (shown.reactions.some((r) => r.emoji === action.emoji && r.user_ids.includes(userId))) break;
        const existing = shown.reactions.find((r) => r.emoji === action.emoji);
        shown = {
          ...shown,
          reactions: existing
            ? shown.reactions.map((r) => (r === existing ? { ...r, count: r.count + 1, user_ids: [...r.user_ids, userId] } : r))
            : [...shown.reactions, { emoji: action.emoji, count: 1, user_ids: [userId] }],
        };
        break;
      }
      case 'unreact':
        shown = {
          ...shown,
          reactions: shown.reactions
            .map((r) => (r.emoji === action.emoji && r.user_ids.includes(userId)
              ? { ...r, count: r.count - 1, user_ids: r.user_ids.filter((id) => id !== userId) }
              : r))
            .filter((r) => r.count > 0),
        };
        break;
    }
  }
  return shown;
}
