import type { ChatListState, ChatModel, MessageModel } from '@confab/sdk';

/**
 * A chat's title and, for a direct chat, the other member (whose presence it shows). `online`
 * is undefined (unknown) while this app is not connected: what it last heard may no longer
 * hold, and it would not hear the change.
 */
export function chatInfo(chat: ChatModel, state: ChatListState, me: string) {
  const other = chat.type === 'direct' ? state.members[chat.id]?.find((m) => m.user.id !== me)?.user : undefined;
  const presence = other ? state.presence[other.id] ?? (other.online === undefined ? undefined : { online: other.online }) : undefined;
  const online = state.connection === 'online' ? presence?.online ?? false : undefined;
  return { title: chat.title ?? other?.display_name ?? 'Direct chat', other, online };
}

export function preview(message: MessageModel | null): string {
  if (!message) return 'No messages yet';
  if (message.is_deleted) return 'Message deleted';
  const kind: Record<string, string> = { image: '📷 Photo', video: '🎬 Video', voice: '🎤 Voice note', file: '📎 File', location: '📍 Location' };
  return message.content || kind[message.type] || '';
}

export function time(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
