import { applyDeletion } from '@confab/sdk';
import type { ClientChange, MessageModel } from '@confab/sdk';

/**
 * A message a page fetched by id (outside any MessageBloc's window: a reply's quote of an older
 * message, the preview's message) after a client change: edited, deleted, unchanged (the same
 * object), or 'gone' from the user's sight (hidden for them, or its chat no longer theirs).
 */
export function followedMessage(change: ClientChange, message: MessageModel): MessageModel | 'gone' {
  if (change.kind === 'messageDeleted' && change.messageId === message.id) return applyDeletion([message], message.id, change.version)[0]!;
  // Told also for a message the cache does not hold, as a quote of an older message is.
  if (change.kind === 'messageUpdated' && change.message.id === message.id && change.message.version > message.version) return change.message;
  if (change.kind === 'chatRemoved' && change.chatId === message.chat_id) return 'gone';
  if (change.kind !== 'messages' || change.chatId !== message.chat_id) return message;
  if (change.removedIds.includes(message.id)) return 'gone';
  const newer = change.messages.find((m) => m.id === message.id && m.version > message.version);
  return newer ?? message;
}
