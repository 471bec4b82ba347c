import { useEffect, useState } from 'preact/hooks';
import type { SignedIn } from '@confab/sdk';
import { navigate, usePath } from './router.js';
import { endSession, savedSignIn, Session, startSession } from './session.js';
import { SignInPage } from './pages/SignInPage.js';
import { ChatListPage } from './pages/ChatListPage.js';
import { ChatPage } from './pages/ChatPage.js';
import { MediaPreviewPage } from './pages/MediaPreviewPage.js';
import { GalleryPage } from './pages/GalleryPage.js';
import { GroupSettingsPage } from './pages/GroupSettingsPage.js';
import { CallScreen } from './components/CallScreen.js';

export function App() {
  const [session, setSession] = useState<Session | undefined>(() => {
    const saved = savedSignIn();
    return saved ? startSession(saved) : undefined;
  });
  const path = usePath();
  const signOut = async (ending: Session) => {
    await endSession(ending);
    setSession(undefined);
    navigate('/', true);
  };
  // A token the server no longer takes (expired, revoked elsewhere) ends the session: the
  // client has stopped, and the sign-in screen is the way on.
  useEffect(() => session?.client.onTokenRefused(() => void signOut(session)), [session]);

  if (!session) {
    // The address stays: signing in from a chat's address (a link, a reload after the session ended) opens that chat.
    const signedIn = (result: SignedIn) => setSession(startSession(result));
    return <SignInPage onSignedIn={signedIn} />;
  }
  return (
    <>
      <Page session={session} path={path} onSignOut={() => void signOut(session)} />
      <CallScreen session={session} />
    </>
  );
}

function Page({ session, path, onSignOut }: { session: Session; path: string; onSignOut: () => void }) {
  const chat = /^\/chats\/([^/]+)$/.exec(path);
  if (chat) return <ChatPage key={chat[1]} session={session} chatId={chat[1]!} />;
  const settings = /^\/chats\/([^/]+)\/settings$/.exec(path);
  if (settings) return <GroupSettingsPage session={session} chatId={settings[1]!} />;
  const gallery = /^\/chats\/([^/]+)\/gallery$/.exec(path);
  if (gallery) return <GalleryPage session={session} chatId={gallery[1]!} />;
  const media = /^\/chats\/([^/]+)\/media\/([^/]+)$/.exec(path);
  if (media) return <MediaPreviewPage session={session} chatId={media[1]!} messageId={media[2]!} />;
  return <ChatListPage session={session} onSignOut={onSignOut} />;
}
