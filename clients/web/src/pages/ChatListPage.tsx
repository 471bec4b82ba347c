import { useEffect, useState } from 'preact/hooks';
import { ConfabError } from '@confab/sdk';
import { useCallState } from '../components/CallScreen.js';
import { OfflineBanner } from '../components/OfflineBanner.js';
import { chatInfo, preview, time } from '../chat-info.js';
import { useBloc, useUser } from '../hooks.js';
import { navigate } from '../router.js';
import type { Session } from '../session.js';
import { usernameList, usersNamed } from '../users.js';

export function ChatListPage({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const state = useBloc(session.chats);
  const user = useUser(session);
  const me = user.id;
  const { running } = useCallState(session);

  // Coming back to the list refreshes it: a chat's last message may have been edited or deleted.
  useEffect(() => {
    void session.chats.add({ type: 'load' }).catch(() => undefined);
  }, []);

  // Direct chats are titled with the other member's name and show their presence.
  useEffect(() => {
    for (const chat of state.chats)
      if (chat.type === 'direct' && !state.members[chat.id]) void session.chats.add({ type: 'loadMembers', chatId: chat.id }).catch(() => undefined);
  }, [state.chats]);

  return (
    <div class="page chat-list">
      <header class="bar">
        <h1>Chats</h1>
        <span class="me">{user.display_name}</span>
        <button type="button" onClick={onSignOut}>Sign out</button>
      </header>
      <OfflineBanner state={state.connection} />
      <NewChat session={session} />
      {state.chats.length === 0 && !state.loading && <p class="empty">No chats yet. Start one with a username.</p>}
      <ul class="chats" aria-label="Chats">
        {state.chats.map((chat) => {
          const { title, other, online } = chatInfo(chat, state, me);
          const unread = chat.me.unread_count;
          const inCall = running[chat.id] !== undefined;
          return (
            <li key={chat.id}>
              <a href={`/chats/${chat.id}`} class="chat-row" data-testid="chat-row"
                onClick={(e) => { e.preventDefault(); navigate(`/chats/${chat.id}`); }}
                aria-label={`${title}${other && online !== undefined ? (online ? ', online' : ', offline') : ''}${inCall ? ', call in progress' : ''}${unread ? `, ${unread} unread` : ''}`}>
                <span class={`avatar${online ? ' online' : ''}`} aria-hidden="true">{title.slice(0, 1).toUpperCase()}</span>
                <span class="chat-text">
                  <span class="chat-title">{title}</span>
                  <span class="chat-preview" data-testid="chat-preview">{preview(chat.last_message)}</span>
                </span>
                <span class="chat-meta">
                  {chat.last_message && <time>{time(chat.last_message.created_at)}</time>}
                  {inCall && <span class="call-marker" data-testid="call-marker" title="Call in progress">📞</span>}
                  {unread > 0 && <span class="badge" data-testid="unread">{unread}</span>}
                </span>
              </a>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** Starts a direct chat with one username, or a group with a title and several. */
function NewChat({ session }: { session: Session }) {
  const [usernames, setUsernames] = useState('');
  const [title, setTitle] = useState('');
  const [group, setGroup] = useState(false);
  const [error, setError] = useState<string>();
  const start = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const members = (await usersNamed(session, usernameList(usernames))).map((u) => u.id);
      const request = group ? { type: 'group' as const, title: title.trim(), member_ids: members } : { type: 'direct' as const, member_ids: members.slice(0, 1) };
      await session.chats.add({ type: 'create', request, created: (chat) => navigate(`/chats/${chat.id}`) });
    } catch (failure) {
      setError(failure instanceof ConfabError || failure instanceof Error ? failure.message : 'Cannot start the chat now.');
    }
  };
  return (
    <form class="new-chat" onSubmit={start} aria-label="Start a chat">
      {group && (
        <label>
          <span class="visually-hidden">Group title</span>
          <input placeholder="Group title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} required />
        </label>
      )}
      <label>
        <span class="visually-hidden">{group ? 'Usernames to add' : 'Username to chat with'}</span>
        <input placeholder={group ? 'Usernames to add' : 'Username to chat with'} value={usernames} onInput={(e) => setUsernames(e.currentTarget.value)} required={!group} />
      </label>
      <button type="submit">{group ? 'Create group' : 'Start chat'}</button>
      <button type="button" class="link" onClick={() => setGroup(!group)}>{group ? 'Direct chat instead' : 'New group'}</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}
