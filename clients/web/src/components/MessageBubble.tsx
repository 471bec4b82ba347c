import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { MessageModel, OutboxEntry, PendingAction } from '@confab/sdk';
import { time } from '../chat-info.js';
import { MediaAccess, mediaUrl, useMediaUrl } from '../media.js';
import { LivePhoto } from './LivePhoto.js';
import { AudioPlayer, VideoPlayer } from './VideoPlayer.js';

const quickReactions = ['👍', '❤️', '😂'];

export interface MessageActions {
  react: (message: MessageModel, emoji: string, mine: boolean) => void;
  reply: (message: MessageModel) => void;
  edit: (message: MessageModel) => void;
  remove: (message: MessageModel) => void;
  openMedia: (message: MessageModel) => void;
}

export interface MessageBubbleProps {
  message: MessageModel;
  me: string;
  media: MediaAccess;
  /** Undefined while not known yet (then no name is written). */
  senderName?: string;
  /** Another member has read up to this message. */
  read: boolean;
  repliedTo?: MessageModel;
  actions: MessageActions;
  /** The sender's name is written above the text (another member's message in a group). */
  showSender?: boolean;
  /** The user's edits, reactions and deletions of it not yet taken by the server (already shown on `message`). */
  pending?: readonly PendingAction[];
  onRetry?: (action: PendingAction) => void;
  onDiscard?: (action: PendingAction) => void;
}

const actionNames: Record<PendingAction['action']['type'], string> = { edit: 'Edit', delete: 'Deletion', react: 'Reaction', unreact: 'Reaction removal' };

/** Pending changes of a message (kept until the server takes them), and refused ones with a retry. */
function ActionStatus({ pending = [], onRetry, onDiscard }: Pick<MessageBubbleProps, 'pending' | 'onRetry' | 'onDiscard'>) {
  const waiting = pending.filter((a) => a.status !== 'failed');
  const failed = pending.filter((a) => a.status === 'failed');
  if (!pending.length) return null;
  return (
    <div class="action-status">
      {waiting.length > 0 && (
        <span class="pending" data-testid="action-pending">🕓 {waiting.map((a) => actionNames[a.action.type]).join(', ')} pending</span>
      )}
      {failed.map((action) => (
        <p key={action.client_id} class="error" role="alert" data-testid="action-failed">
          {actionNames[action.action.type]} failed: {action.error?.message ?? 'refused'}{' '}
          <button type="button" onClick={() => onRetry?.(action)}>Retry</button>
          <button type="button" onClick={() => onDiscard?.(action)}>Discard</button>
        </p>
      ))}
    </div>
  );
}

export function MessageBubble({ message, me, media, senderName, read, repliedTo, actions, showSender, pending, onRetry, onDiscard }: MessageBubbleProps) {
  const [menu, setMenu] = useState(false);
  const more = useRef<HTMLButtonElement>(null);
  const mine = message.sender_id === me;
  // Focus goes back to the ⋯ button, unless the action moves it on (Reply and Edit: the input).
  const close = (action: () => void) => () => { setMenu(false); more.current?.focus(); action(); };
  const status = <ActionStatus pending={pending} onRetry={onRetry} onDiscard={onDiscard} />;
  if (message.type === 'system')
    return (
      <p class="system-message" data-testid="system-message" data-seq={message.seq} dir="auto">{message.content}</p>
    );
  if (message.is_deleted)
    return (
      <article class={`bubble deleted${mine ? ' mine' : ''}`} data-testid="message" data-seq={message.seq} aria-label={`${senderName ?? 'Someone'}: message deleted`}>
        <p class="content"><em>Message deleted</em></p>
        {status}
      </article>
    );
  return (
    <article class={`bubble${mine ? ' mine' : ''}`} data-testid="message" data-seq={message.seq} aria-label={`${mine ? 'You' : senderName ?? 'Someone'} at ${time(message.created_at)}`}>
      {showSender && !mine && senderName && <p class="sender" data-testid="sender" dir="auto">{senderName}</p>}
      {repliedTo && (
        <blockquote class="reply-quote" data-testid="reply-quote" dir="auto">
          {repliedTo.is_deleted ? 'Message deleted' : repliedTo.content || 'Attachment'}
        </blockquote>
      )}
      {message.media?.kind === 'image' && (message.media.live_video
        ? <LivePhoto media={media} messageId={message.id} testId="live-photo"><Thumbnail message={message} media={media} onOpen={() => actions.openMedia(message)} /></LivePhoto>
        : <Thumbnail message={message} media={media} onOpen={() => actions.openMedia(message)} />)}
      {message.media?.kind === 'voice' && <VoicePlayer message={message} media={media} />}
      {message.media?.kind === 'video' && <VideoMessage message={message} media={media} onOpen={() => actions.openMedia(message)} />}
      {message.media?.kind === 'file' && <FileLink message={message} media={media} />}
      {message.type === 'location' && message.metadata.location && <LocationView location={message.metadata.location} />}
      {message.content && <p class="content" data-testid="content" dir="auto">{message.content}</p>}
      <footer class="meta">
        {message.is_edited && <span class="edited" data-testid="edited">edited</span>}
        <time>{time(message.created_at)}</time>
        {mine && (
          <span class="tick" data-testid="tick" data-state={read ? 'read' : 'sent'} aria-label={read ? 'Read' : 'Sent'}>
            {read ? '✓✓' : '✓'}
          </span>
        )}
      </footer>
      {status}
      {message.reactions.length > 0 && (
        <ul class="reactions" aria-label="Reactions">
          {message.reactions.map((r) => {
            const reacted = r.user_ids.includes(me);
            return (
              <li key={r.emoji}>
                <button type="button" class={reacted ? 'reacted' : ''} aria-pressed={reacted} data-testid="reaction"
                  aria-label={`${r.emoji} ${r.count}`} onClick={() => actions.react(message, r.emoji, reacted)}>
                  {r.emoji} {r.count}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <button ref={more} type="button" class="more" aria-label="Message actions" aria-haspopup="menu" aria-expanded={menu} onClick={() => setMenu(!menu)}>⋯</button>
      {menu && (
        <Menu onClose={() => { setMenu(false); more.current?.focus(); }}>
          {quickReactions.map((emoji) => (
            <button key={emoji} type="button" role="menuitem" aria-label={`React ${emoji}`}
              onClick={close(() => actions.react(message, emoji, message.reactions.some((r) => r.emoji === emoji && r.user_ids.includes(me))))}>
              {emoji}
            </button>
          ))}
          <button type="button" role="menuitem" onClick={close(() => actions.reply(message))}>Reply</button>
          {mine && message.type === 'text' && <button type="button" role="menuitem" onClick={close(() => actions.edit(message))}>Edit</button>}
          {mine && <button type="button" role="menuitem" onClick={close(() => actions.remove(message))}>Delete</button>}
        </Menu>
      )}
    </article>
  );
}

/**
 * A menu as the WAI-ARIA menu button pattern has it: focus moves to its first item when it
 * opens, the arrow keys (and Home, End) move between the items, and Escape closes it and gives
 * focus back to the button that opened it.
 */
function Menu({ onClose, children }: { onClose: () => void; children: ComponentChildren }) {
  const menu = useRef<HTMLDivElement>(null);
  const items = () => [...(menu.current?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])];
  useEffect(() => items()[0]?.focus(), []);
  const onKeyDown = (event: KeyboardEvent) => {
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLElement);
    const to: Record<string, number> = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: all.length - 1 };
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onClose();
    } else if (event.key in to && all.length) {
      event.preventDefault();
      all[(to[event.key]! + all.length) % all.length]!.focus();
    }
  };
  return <div ref={menu} class="menu" role="menu" onKeyDown={onKeyDown}>{children}</div>;
}

function VoicePlayer({ message, media }: { message: MessageModel; media: MediaAccess }) {
  const url = useMediaUrl(media, message.id, 'full');
  const seconds = Math.round((message.media?.duration_ms ?? 0) / 1000);
  return url ? <AudioPlayer url={url} testId="voice" label={`Voice note, ${seconds} seconds`} />
    : <span class="thumb-placeholder voice">Loading voice note…</span>;
}

/** A video plays in the bubble, fetched only when asked for (videos are large), or opens full size. */
function VideoMessage({ message, media, onOpen }: { message: MessageModel; media: MediaAccess; onOpen: () => void }) {
  const [requested, setRequested] = useState(false);
  const url = useMediaUrl(media, requested ? message.id : undefined, 'full');
  const name = message.media?.file_name ?? 'video';
  if (!requested)
    return <button type="button" class="attachment" aria-label={`Play video ${name}`} onClick={() => setRequested(true)}>🎬 Play video</button>;
  return (
    <>
      {url ? <VideoPlayer url={url} label={`Video ${name}`} testId="video" autoPlay /> : <span class="thumb-placeholder" role="status">Loading video…</span>}
      <button type="button" class="attachment" aria-label={`Open video ${name} full size`} onClick={onOpen}>⤢ Full size</button>
    </>
  );
}

export function FileLink({ message, media }: { message: MessageModel; media: MediaAccess }) {
  const name = message.media?.file_name ?? 'file';
  const download = async () => {
    const link = document.createElement('a');
    link.href = await mediaUrl(media, message.id, 'full');
    link.download = name;
    link.click();
  };
  const kib = Math.max(1, Math.round((message.media?.size_bytes ?? 0) / 1024));
  return (
    <button type="button" class="attachment" data-testid="file" aria-label={`Download ${name}, ${kib} KiB`} onClick={() => void download()}>
      📎 {name} <small>({kib} KiB)</small>
    </button>
  );
}

function LocationView({ location }: { location: { latitude: number; longitude: number; name?: string } }) {
  const { latitude, longitude } = location;
  const where = `${latitude.toFixed(5)}, ${longitude.toFixed(5)}`;
  return (
    <a class="location" data-testid="location" target="_blank" rel="noopener noreferrer"
      href={`https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=16/${latitude}/${longitude}`}>
      📍 {location.name ?? 'Location'}: {where}
    </a>
  );
}

export function Thumbnail({ message, media, onOpen }: { message: MessageModel; media: MediaAccess; onOpen: () => void }) {
  const url = useMediaUrl(media, message.id, 'thumb');
  const { width, height } = message.media ?? {};
  return (
    <button type="button" class="thumb" onClick={onOpen} aria-label="Open image">
      {url ? <img src={url} alt={message.content || 'Image'} data-testid="thumbnail" width={width && height ? 240 : undefined} height={width && height ? Math.round((240 * height) / width) : undefined} />
        : <span class="thumb-placeholder">Loading image…</span>}
    </button>
  );
}

/** A send not acknowledged yet: pending, or refused with its reason and a retry. */
export function OutgoingBubble({ entry, onRetry, onDiscard }: { entry: OutboxEntry; onRetry: () => void; onDiscard: () => void }) {
  const failed = entry.status === 'failed';
  return (
    <article class={`bubble mine outgoing${failed ? ' failed' : ''}`} data-testid="outgoing" data-status={entry.status}>
      <p class="content" dir="auto">{entry.request.type === 'location' ? '📍 Location' : entry.request.content ?? ''}</p>
      <footer class="meta">
        {failed ? (
          <>
            <span class="error" role="alert">Not sent: {entry.error?.message ?? 'refused'}</span>
            <button type="button" onClick={onRetry}>Retry</button>
            <button type="button" onClick={onDiscard}>Discard</button>
          </>
        ) : (
          <span class="pending" aria-label="Pending">🕓 Pending</span>
        )}
      </footer>
    </article>
  );
}
