import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { MessageBloc, withPendingActions } from '@confab/sdk';
import type { MessageModel, OutboxEntry, PendingAction, Upload } from '@confab/sdk';
import { InputBar } from '../components/InputBar.js';
import { MessageActions, MessageBubble, OutgoingBubble } from '../components/MessageBubble.js';
import { OfflineBanner } from '../components/OfflineBanner.js';
import { VirtualList } from '../components/VirtualList.js';
import { chatInfo } from '../chat-info.js';
import { followedMessage } from '../followed-message.js';
import { useBloc } from '../hooks.js';
import { useCallState } from '../components/CallScreen.js';
import { chatNotFound } from '../not-found.js';
import { navigate } from '../router.js';
import type { Session } from '../session.js';
import { profileOf } from '../users.js';

type Row = { kind: 'message'; message: MessageModel } | { kind: 'outgoing'; entry: OutboxEntry };

export function ChatPage({ session, chatId }: { session: Session; chatId: string }) {
  const bloc = useMemo(() => new MessageBloc(session.client, chatId), [chatId]);
  useEffect(() => {
    void bloc.add({ type: 'open' }).catch(() => undefined);
    void session.chats.add({ type: 'loadMembers', chatId }).catch(() => undefined);
    return () => bloc.dispose();
  }, [bloc]);
  const state = useBloc(bloc);
  const list = useBloc(session.chats);
  const uploads = useBloc(session.uploads);
  const [replyTo, setReplyTo] = useState<MessageModel>();
  const [editing, setEditing] = useState<MessageModel>();
  const me = session.user.id;
  const calls = useCallState(session);
  const inCall = calls.call !== undefined;

  const chat = list.chats.find((c) => c.id === chatId);
  const members = list.members[chatId] ?? [];
  // A call that started before this page (or before a reconnect) is offered to join too. The
  // call.updated every connection gets as it opens (and live ones after) tells of each call of
  // a chat the user was a member of when the call started: every call of a direct chat, and of
  // a group the user was in from its creation. Only a group joined later may have a call that
  // started before the user joined, which GET /chats/{id}/call alone tells; asked there only,
  // since its "no call" answer is a 404 that the browser logs as a failed request.
  const joinedAt = members.find((m) => m.user.id === me)?.joined_at;
  const joinedLater = chat?.type === 'group' && joinedAt !== undefined && Date.parse(joinedAt) > Date.parse(chat.created_at);
  useEffect(() => {
    if (!joinedLater) return;
    void session.calls.refreshRunning(chatId);
    return session.client.connection.onOpen(({ reconnected }) => {
      if (reconnected) void session.calls.refreshRunning(chatId);
    });
  }, [chatId, joinedLater]);
  const info = chat ? chatInfo(chat, list, me) : { title: 'Chat', other: undefined, online: false };
  // Only a group's call takes more participants (call.join).
  const joinable = chat?.type === 'group' && !inCall ? calls.running[chatId] : undefined;
  // Senders who are no longer members (left, removed) are named from their profile. Nobody is
  // named before the members are known, so no one shows as "Someone" while they load.
  const [formerNames, setFormerNames] = useState<Readonly<Record<string, string>>>({});
  const membersKnown = list.members[chatId] !== undefined;
  useEffect(() => {
    if (!membersKnown) return;
    for (const { sender_id: id } of state.messages)
      if (id && !(id in formerNames) && !members.some((m) => m.user.id === id))
        profileOf(session, id).then((user) => setFormerNames((names) => ({ ...names, [id]: user.display_name })), () => undefined);
  }, [state.messages, members]);
  /** The sender's name; undefined while it is not known yet. */
  const nameOf = (id: string | null) => members.find((m) => m.user.id === id)?.user.display_name ?? (id ? formerNames[id] : undefined);
  // The furthest another member has read (their receipts, or the member list's last_read_seq).
  const readByOthers = Math.max(0, ...members.filter((m) => m.user.id !== me).map((m) => Math.max(m.last_read_seq ?? 0, state.readBy[m.user.id] ?? 0)),
    ...Object.entries(state.readBy).filter(([id]) => id !== me).map(([, seq]) => seq));

  // Read while the page is seen: a new message, or the tab coming back into view with messages
  // that arrived while it was in the background. Up to the chat's newest seq, thread replies
  // included: they are not in the window but count as unread, and a reply as the chat's newest
  // message would otherwise keep the badge for good. (Not past the window when it does not
  // reach the newest.)
  const windowNewest = state.messages.at(-1)?.seq ?? 0;
  const newest = state.hasNewer ? windowNewest : Math.max(windowNewest, state.lastSeq, chat?.last_seq ?? 0);
  useEffect(() => {
    const markRead = () => {
      if (newest > 0 && document.visibilityState === 'visible') void bloc.add({ type: 'markRead', seq: newest }).catch(() => undefined);
    };
    markRead();
    document.addEventListener('visibilitychange', markRead);
    return () => document.removeEventListener('visibilitychange', markRead);
  }, [bloc, newest]);

  // Edits, reactions and deletions not yet taken by the server show at once, marked pending.
  const actionsOf = useMemo(() => {
    const byMessage = new Map<string, PendingAction[]>();
    for (const action of state.actions) byMessage.set(action.message_id, [...(byMessage.get(action.message_id) ?? []), action]);
    return byMessage;
  }, [state.actions]);

  // A reply's quote: from the window, else fetched once (it may be older than the window) and
  // then kept current from the client's changes, as the window's messages are.
  const [quoted, setQuoted] = useState<ReadonlyMap<string, MessageModel>>(new Map());
  useEffect(() => session.client.subscribe((change) => setQuoted((known) => {
    let next: Map<string, MessageModel> | undefined;
    for (const [id, message] of known) {
      const after = followedMessage(change, message);
      if (after === message) continue;
      next ??= new Map(known);
      if (after === 'gone') next.delete(id);
      else next.set(id, after);
    }
    return next ?? known;
  })), []);
  const byId = useMemo(() => new Map([...quoted, ...state.messages.map((m): [string, MessageModel] => [m.id, m])]), [state.messages, quoted]);
  const asked = useRef(new Set<string>());
  useEffect(() => {
    for (const { reply_to_id: id } of state.messages) {
      if (!id || byId.has(id) || asked.current.has(id)) continue;
      asked.current.add(id);
      session.client.rest.message(id, { retries: 0 })
        .then((message) => setQuoted((known) => new Map(known).set(message.id, message)))
        .catch(() => asked.current.delete(id)); // offline: asked again with the next change
    }
  }, [state.messages]);
  const rows: Row[] = [
    ...state.messages.map((message): Row => ({ kind: 'message', message })),
    ...state.outgoing.map((entry): Row => ({ kind: 'outgoing', entry })),
  ];

  const actions: MessageActions = {
    react: (message, emoji, mine) => void bloc.add({ type: mine ? 'unreact' : 'react', messageId: message.id, emoji }).catch(() => undefined),
    reply: (message) => { setEditing(undefined); setReplyTo(message); },
    edit: (message) => { setReplyTo(undefined); setEditing(message); },
    remove: (message) => { if (confirm('Delete this message for everyone?')) void bloc.add({ type: 'delete', messageId: message.id }).catch(() => undefined); },
    openMedia: (message) => navigate(`/chats/${chatId}/media/${message.id}`),
  };

  /** One upload each, but a photo and a video picked together are one live photo (the video its motion part). */
  const attach = async (files: File[]) => {
    const still = files.find((f) => f.type.startsWith('image/'));
    const motion = files.find((f) => f.type.startsWith('video/'));
    if (files.length === 2 && still && motion) return upload(still, motion);
    for (const file of files) await upload(file);
  };
  const upload = async (file: File, motion?: File) => {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const kind = file.type.startsWith('image/') ? 'image' : file.type.startsWith('video/') ? 'video' : 'file';
    const bitmap = kind === 'image' ? await createImageBitmap(file).catch(() => undefined) : undefined;
    const metadata = bitmap ? { width: bitmap.width, height: bitmap.height } : undefined;
    const liveVideo = motion && { bytes: new Uint8Array(await motion.arrayBuffer()), mimeType: motion.type };
    void session.uploads.add({
      type: 'add',
      upload: { chatId, kind, mimeType: file.type || 'application/octet-stream', fileName: file.name, bytes, metadata, liveVideo, message: { content: '' } },
    }).catch(() => undefined);
  };
  const uploading = uploads.uploads.filter((u) => u.chatId === chatId && u.status !== 'done' && u.status !== 'cancelled');
  const typing = state.typing.filter((id) => id !== me);

  return (
    <div class="page chat">
      <header class="bar">
        <a href="/" class="back" aria-label="Back to chats" onClick={(e) => { e.preventDefault(); navigate('/'); }}>←</a>
        <div class="chat-head">
          <h1>{info.title}</h1>
          <p class="status" data-testid="chat-status" aria-live="polite">
            {typing.length ? `${typing.map((id) => nameOf(id) ?? 'Someone').join(', ')} ${typing.length > 1 ? 'are' : 'is'} typing…` : info.other ? presenceText(info.online) : `${chat?.member_count ?? ''} members`}
          </p>
        </div>
        {joinable && (
          <button type="button" class="join-call" data-testid="join-call" onClick={() => void session.calls.join(chatId)}
            aria-label={`Join the ${joinable.kind} call, ${joinable.participants.length} in it`}>
            Join {joinable.kind} call
          </button>
        )}
        <button type="button" class="icon" aria-label="Start a voice call" disabled={inCall || state.gone} onClick={() => void session.calls.start(chatId, 'voice')}>📞</button>
        <button type="button" class="icon" aria-label="Start a video call" disabled={inCall || state.gone} onClick={() => void session.calls.start(chatId, 'video')}>🎥</button>
        {chat?.type === 'group' && (
          <a href={`/chats/${chatId}/settings`} onClick={(e) => { e.preventDefault(); navigate(`/chats/${chatId}/settings`); }}>Settings</a>
        )}
        <a href={`/chats/${chatId}/gallery`} onClick={(e) => { e.preventDefault(); navigate(`/chats/${chatId}/gallery`); }}>Media</a>
      </header>
      <OfflineBanner state={list.connection} />
      <VirtualList
        items={rows}
        label={`Messages with ${info.title}`}
        keyOf={(row) => (row.kind === 'message' ? row.message.id : `out-${row.entry.client_id}`)}
        onNearTop={() => { if (state.hasOlder && !state.loading) void bloc.add({ type: 'loadOlder' }).catch(() => undefined); }}
        render={(row) => row.kind === 'message'
          ? <MessageBubble message={withPendingActions(row.message, actionsOf.get(row.message.id) ?? [], me)} me={me} media={session}
              senderName={nameOf(row.message.sender_id)} read={row.message.seq <= readByOthers}
              repliedTo={row.message.reply_to_id ? byId.get(row.message.reply_to_id) : undefined} actions={actions}
              pending={actionsOf.get(row.message.id)} showSender={chat?.type === 'group'}
              onRetry={(action) => void bloc.add({ type: 'retry', clientId: action.client_id }).catch(() => undefined)}
              onDiscard={(action) => void bloc.add({ type: 'discard', clientId: action.client_id }).catch(() => undefined)} />
          : <OutgoingBubble entry={row.entry} onRetry={() => void bloc.add({ type: 'retry', clientId: row.entry.client_id })}
              onDiscard={() => void bloc.add({ type: 'discard', clientId: row.entry.client_id })} />}
      />
      {uploading.map((u) => <UploadStatus key={u.id} upload={u} session={session} />)}
      {state.gone && (
        <p class="chat-gone" role="alert" data-testid="chat-gone">
          {chat || state.messages.length ? 'You are no longer a member of this chat.' : chatNotFound}
        </p>
      )}
      <InputBar
        disabled={state.gone}
        replyTo={replyTo}
        editing={editing}
        onCancel={() => { setReplyTo(undefined); setEditing(undefined); }}
        onTyping={() => void bloc.add({ type: 'input' }).catch(() => undefined)}
        onAttach={(files) => void attach(files)}
        onVoiceNote={(note) => void session.uploads.add({
          type: 'add',
          upload: { chatId, kind: 'voice', mimeType: note.mimeType, fileName: 'voice-note.webm', bytes: note.bytes, metadata: { duration_ms: note.durationMs }, message: { content: '' } },
        }).catch(() => undefined)}
        onShareLocation={() => navigator.geolocation.getCurrentPosition(
          ({ coords }) => void bloc.add({ type: 'send', request: { type: 'location', metadata: { location: { latitude: coords.latitude, longitude: coords.longitude } } } }).catch(() => undefined),
          () => alert('Your location is not available.'),
        )}
        onSend={(content) => {
          void bloc.add({ type: 'send', request: { type: 'text', content, reply_to_id: replyTo?.id ?? null } }).catch(() => undefined);
          setReplyTo(undefined);
        }}
        onSaveEdit={(message, content) => {
          void bloc.add({ type: 'edit', messageId: message.id, content }).catch(() => undefined);
          setEditing(undefined);
        }}
      />
    </div>
  );
}

/** The other member's presence, unknown while this app is not connected (what it last heard may no longer hold). */
function presenceText(online: boolean | undefined): string {
  return online === undefined ? '' : online ? 'online' : 'offline';
}

/** An upload of this chat: its progress, that it waits for the connection, or why it failed. */
function UploadStatus({ upload: u, session }: { upload: Upload; session: Session }) {
  const name = `${u.liveVideo ? 'live photo ' : ''}${u.fileName ?? 'image'}`;
  const cancel = <button type="button" onClick={() => void session.uploads.add({ type: 'cancel', id: u.id })}>{u.status === 'failed' ? 'Dismiss' : 'Cancel'}</button>;
  return (
    <p class="upload-status" role="status" data-status={u.status}>
      {u.status === 'failed' && <>Upload of {name} failed: {u.error}{' '}
        <button type="button" onClick={() => void session.uploads.add({ type: 'retry', id: u.id })}>Retry</button>{cancel}</>}
      {u.status === 'offline' && <>Waiting for the connection to upload {name}. {cancel}</>}
      {u.status === 'waiting' && <>Uploading {name}: no answer yet, trying again shortly. {cancel}</>}
      {(u.status === 'queued' || u.status === 'uploading') && `Uploading ${name}… ${Math.round(u.progress * 100)}%`}
    </p>
  );
}
