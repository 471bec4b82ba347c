import { useEffect, useState } from 'preact/hooks';
import type { MessageModel, MessagePage } from '@confab/sdk';
import { Thumbnail } from '../components/MessageBubble.js';
import { chatNotFound, isNotFound } from '../not-found.js';
import { navigate } from '../router.js';
import type { Session } from '../session.js';

/** A chat's shared images and videos, newest first, each opening in the preview. */
export function GalleryPage({ session, chatId }: { session: Session; chatId: string }) {
  const [messages, setMessages] = useState<MessageModel[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    session.client.rest.request<MessagePage>('GET', `/chats/${chatId}/media`, { query: { limit: 100 } })
      .then((page) => setMessages(page.messages), (failure) => setError(isNotFound(failure) ? chatNotFound : 'The media cannot be loaded now.'));
  }, [chatId]);
  const visual = (messages ?? []).filter((m) => m.media && (m.media.kind === 'image' || m.media.kind === 'video'));
  return (
    <div class="page gallery">
      <header class="bar">
        <a href={`/chats/${chatId}`} class="back" aria-label="Back to the chat" onClick={(e) => { e.preventDefault(); navigate(`/chats/${chatId}`); }}>←</a>
        <h1>Media</h1>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      {messages && visual.length === 0 && <p class="empty">No photos or videos yet.</p>}
      <ul class="grid" aria-label="Photos and videos" data-testid="gallery">
        {visual.map((message) => (
          <li key={message.id}>
            <Thumbnail message={message} media={session} onOpen={() => navigate(`/chats/${chatId}/media/${message.id}`)} />
          </li>
        ))}
      </ul>
    </div>
  );
}
