import { useEffect, useState } from 'preact/hooks';
import { useBloc } from '../hooks.js';
import { navigate } from '../router.js';
import type { Session } from '../session.js';
import { chatNotFound, isNotFound } from '../not-found.js';
import { usernameList, usersNamed } from '../users.js';

/** A group's title and members: owners and admins rename, add, promote and remove; anyone leaves. */
export function GroupSettingsPage({ session, chatId }: { session: Session; chatId: string }) {
  const state = useBloc(session.chats);
  const chat = state.chats.find((c) => c.id === chatId);
  const members = state.members[chatId] ?? [];
  const [title, setTitle] = useState(chat?.title ?? '');
  const [adding, setAdding] = useState('');
  const [error, setError] = useState<string>();
  // A chat that is not the user's (its members refused: not found) has no settings to show.
  const [missing, setMissing] = useState(false);
  useEffect(() => { session.chats.add({ type: 'loadMembers', chatId }).catch((failure) => setMissing(isNotFound(failure))); }, [chatId]);
  useEffect(() => { if (chat?.title) setTitle(chat.title); }, [chat?.title]);
  const me = session.user.id;
  const direct = chat?.type === 'direct';
  const manager = chat?.me.role === 'owner' || chat?.me.role === 'admin';
  const run = (action: () => Promise<unknown>) => {
    setError(undefined);
    action().catch((failure) => setError(failure instanceof Error ? failure.message : String(failure)));
  };
  const back = () => navigate(`/chats/${chatId}`);

  return (
    <div class="page settings">
      <header class="bar">
        <a href={`/chats/${chatId}`} class="back" aria-label="Back to the chat" onClick={(e) => { e.preventDefault(); back(); }}>←</a>
        <h1>Group settings</h1>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      {missing && <p class="chat-gone" role="alert" data-testid="settings-missing">{chatNotFound}</p>}
      {direct && <p class="chat-gone" role="status" data-testid="settings-missing">A direct chat has no group settings.</p>}
      {!missing && !direct && <>
      <form class="section" aria-label="Group title" onSubmit={(e) => { e.preventDefault(); run(() => session.chats.add({ type: 'update', chatId, request: { title: title.trim() } })); }}>
        <label>Title<input value={title} disabled={!manager} onInput={(e) => setTitle(e.currentTarget.value)} required /></label>
        {manager && <button type="submit">Save title</button>}
      </form>
      <section class="section" aria-label="Members">
        <h2>{members.length} members</h2>
        <ul class="members" data-testid="members">
          {members.map((m) => (
            <li key={m.user.id} data-testid="member">
              <span class="member-name">{m.user.display_name}{m.user.id === me ? ' (you)' : ''}</span>
              <span class="role">{m.role}</span>
              {manager && m.user.id !== me && m.role === 'member' && (
                <button type="button" onClick={() => run(() => session.chats.add({ type: 'updateMember', chatId, userId: m.user.id, request: { role: 'admin' } }))}>Make admin</button>
              )}
              {manager && m.user.id !== me && m.role !== 'owner' && (
                <button type="button" aria-label={`Remove ${m.user.display_name}`} onClick={() => run(() => session.chats.add({ type: 'removeMember', chatId, userId: m.user.id }))}>Remove</button>
              )}
            </li>
          ))}
        </ul>
        {manager && (
          <form class="add-member" aria-label="Add members" onSubmit={(e) => {
            e.preventDefault();
            run(async () => {
              const users = await usersNamed(session, usernameList(adding));
              await session.chats.add({ type: 'addMembers', chatId, userIds: users.map((u) => u.id) });
              setAdding('');
            });
          }}>
            <label><span class="visually-hidden">Usernames to add</span><input placeholder="Usernames to add" value={adding} onInput={(e) => setAdding(e.currentTarget.value)} required /></label>
            <button type="submit">Add</button>
          </form>
        )}
      </section>
      <button type="button" class="danger" onClick={() => run(async () => {
        await session.chats.add({ type: 'leave', chatId });
        navigate('/');
      })}>Leave group</button>
      </>}
    </div>
  );
}
