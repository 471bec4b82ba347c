import { useEffect, useState } from 'preact/hooks';
import type { MessageModel } from '@confab/sdk';
import { followedMessage } from '../followed-message.js';
import { forgetMediaOf, useMediaUrl } from '../media.js';
import { isNotFound } from '../not-found.js';
import { navigate } from '../router.js';
import { AudioPlayer, VideoPlayer } from '../components/VideoPlayer.js';
import { LivePhoto } from '../components/LivePhoto.js';
import { FileLink } from '../components/MessageBubble.js';
import type { Session } from '../session.js';

const notFound = 'Media not found: the message does not exist, was deleted, or is not in a chat of yours.';

/** One message's media full size: an image (click or Z to zoom; a live photo plays its motion too), a video or an audio with controls. */
export function MediaPreviewPage({ session, chatId, messageId }: { session: Session; chatId: string; messageId: string }) {
  const [message, setMessage] = useState<MessageModel>();
  const [problem, setProblem] = useState<string>();
  const [zoomed, setZoomed] = useState(false);
  const fetched = useMediaUrl(session, messageId, 'full');
  useEffect(() => {
    // No such message for this user (another chat's, deleted, a mistyped id), one with no media,
    // or one of another chat than the address names: said so, instead of loading for ever.
    void session.client.rest.message(messageId).then(
      (found) => (found.media && !found.is_deleted && found.chat_id === chatId ? setMessage(found) : setProblem(notFound)),
      (error) => setProblem(isNotFound(error) ? notFound : 'The media cannot be loaded now. Try again when you are back online.'),
    );
  }, [chatId, messageId]);
  // Deleted for everyone, hidden, or its chat no longer the user's while shown: not found.
  useEffect(() => {
    if (!message) return;
    return session.client.subscribe((change) => {
      const after = followedMessage(change, message);
      if (after === 'gone' || after.is_deleted) setProblem(notFound);
      else if (after !== message) setMessage(after);
    });
  }, [message]);
  // Not found wins over bytes fetched earlier (this page or the tab's copy): they are dropped,
  // also ones still arriving. A transient problem (offline) still shows bytes already here.
  const gone = problem === notFound;
  const url = gone ? undefined : fetched;
  useEffect(() => { if (gone) forgetMediaOf(messageId); }, [gone, fetched]);
  const back = () => navigate(`/chats/${chatId}`);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') back(); };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  const kind = message?.media?.kind;
  const image = url && (
    <button type="button" class={`zoom${zoomed ? ' zoomed' : ''}`} aria-pressed={zoomed} aria-label={zoomed ? 'Zoom out' : 'Zoom in'} onClick={() => setZoomed(!zoomed)}>
      <img src={url} alt={message?.content || 'Image'} data-testid="preview-image" />
    </button>
  );
  return (
    <div class="page media-preview" data-testid="media-preview">
      <header class="bar">
        <a href={`/chats/${chatId}`} class="back" aria-label="Back to the chat" onClick={(e) => { e.preventDefault(); back(); }}>←</a>
        <h1>{message?.media?.file_name ?? 'Media'}</h1>
      </header>
      <div class="stage">
        {problem && !url && <p class="error" role="alert" data-testid="media-missing">{problem}</p>}
        {/* A file (not an image) is offered for download under its name. */}
        {kind === 'file' && !gone && <FileLink message={message!} media={session} />}
        {!url && !problem && kind !== 'file' && <p role="status">Loading…</p>}
        {url && kind === 'video' && <VideoPlayer url={url} label="Video" testId="preview-video" />}
        {url && (kind === 'voice' || kind === 'audio' as string) && <AudioPlayer url={url} label="Voice note" testId="preview-audio" />}
        {/* The kind unknown yet (or offline), bytes already here are shown as the image they most likely are. */}
        {url && (kind === undefined || kind === 'image') && (message?.media?.live_video
          ? <LivePhoto media={session} messageId={messageId} testId="preview-live">{image}</LivePhoto>
          : image)}
      </div>
    </div>
  );
}
