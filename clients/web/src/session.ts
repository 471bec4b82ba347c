// The signed-in user's client: the SDK's ConfabClient with its cache in IndexedDB and its
// outbox in localStorage, and the stores the pages share.
import { ChatBloc, ConfabClient, IndexedDbCache, isTransient, KeyValueOutboxStorage, RestClient, UploadBloc } from '@confab/sdk';
import type { PendingAction, SignedIn, UserModel } from '@confab/sdk';
import { CallController } from './call.js';
import { forgetMediaUrls } from './media.js';

const sessionKey = 'confab.session';
const cacheName = (userId: string) => `confab.cache.${userId}`;
const outboxKey = (userId: string) => `confab.outbox.${userId}`;
const actionsKey = (userId: string) => `confab.actions.${userId}`;
/** Tokens signed out while the server could not be told (offline): revoked once it can be. */
const logoutsKey = 'confab.logouts';

export interface Session {
  token: string;
  /**
   * The signed-in user, kept current: a rename on any device arrives as user.updated, and one
   * made while this page was away is read (GET /users/me) each time the connection opens.
   */
  user: UserModel;
  /** Called with the user's new profile; returns the unsubscribe. */
  onUserChanged: (listener: (user: UserModel) => void) => () => void;
  client: ConfabClient;
  chats: ChatBloc;
  uploads: UploadBloc;
  calls: CallController;
}

export const publicRest = () => new RestClient({ baseUrl: location.origin });

export function savedSignIn(): SignedIn | undefined {
  const saved = localStorage.getItem(sessionKey);
  return saved ? (JSON.parse(saved) as SignedIn) : undefined;
}

export function startSession(signedIn: SignedIn): Session {
  localStorage.setItem(sessionKey, JSON.stringify(signedIn));
  const { token, user } = signedIn;
  // Earlier builds kept the cache in localStorage under the same name: free that space.
  localStorage.removeItem(cacheName(user.id));
  const client = new ConfabClient({
    baseUrl: location.origin,
    token,
    userId: user.id,
    cache: new IndexedDbCache({ name: cacheName(user.id) }),
    outboxStorage: new KeyValueOutboxStorage(localStorage, outboxKey(user.id)),
    actionStorage: new KeyValueOutboxStorage<PendingAction>(localStorage, actionsKey(user.id)),
  });
  const userListeners = new Set<(user: UserModel) => void>();
  const session: Session = {
    token, user, client, chats: new ChatBloc(client), uploads: new UploadBloc(client), calls: new CallController(client, user.id),
    onUserChanged: (listener) => {
      userListeners.add(listener);
      return () => userListeners.delete(listener);
    },
  };
  const userChanged = (changed: UserModel) => {
    if (changed.id !== user.id) return;
    session.user = { ...session.user, ...changed };
    // The saved sign-in too, so a reload shows the new name; never brought back after a sign-out.
    const saved = savedSignIn();
    if (saved?.token === token) localStorage.setItem(sessionKey, JSON.stringify({ ...saved, user: session.user }));
    for (const listener of userListeners) listener(session.user);
  };
  client.subscribe((change) => { if (change.kind === 'user') userChanged(change.user); });
  client.connection.onOpen(() => {
    void client.rest.me({ retries: 0 }).then(userChanged, () => undefined);
    void sendKeptLogouts();
  });
  // The browser knows it lost the network before a heartbeat would: show it and queue sends.
  addEventListener('offline', () => client.connection.interrupt());
  void client.start().then(() => session.chats.add({ type: 'load' })).catch(() => undefined);
  void session.chats.add({ type: 'load' }).catch(() => undefined);
  return session;
}

/** Signs out (or ends a session whose token the server refused): nothing of the user stays in the browser. */
export async function endSession(session: Session): Promise<void> {
  await session.calls.hangUp();
  // Stopped first: the logout closes this token's sockets (4001), which is then not taken for a refused token.
  session.client.stop();
  // Not told now (offline, the server away), the token would stay valid: kept to be revoked later.
  await session.client.rest.logout({ retries: 0 }).catch((error) => { if (isTransient(error)) keepLogout(session.token); });
  session.chats.dispose();
  session.uploads.dispose();
  localStorage.removeItem(sessionKey);
  forgetMediaUrls();
  await session.client.cache.clear();
  localStorage.removeItem(outboxKey(session.user.id));
  localStorage.removeItem(actionsKey(session.user.id));
}

const keptLogouts = (): string[] => JSON.parse(localStorage.getItem(logoutsKey) ?? '[]') as string[];

function keepLogout(token: string): void {
  localStorage.setItem(logoutsKey, JSON.stringify([...new Set([...keptLogouts(), token])]));
}

/** Sends the logouts of tokens signed out offline; each is forgotten once the server took it or no longer knows the token. */
async function sendKeptLogouts(): Promise<void> {
  for (const token of keptLogouts()) {
    const told = await new RestClient({ baseUrl: location.origin, token }).logout({ retries: 0 }).then(() => true, (error) => !isTransient(error));
    if (told) localStorage.setItem(logoutsKey, JSON.stringify(keptLogouts().filter((kept) => kept !== token)));
  }
}

/** Revokes the tokens signed out offline: now, and each time the browser is back online (whoever is signed in then). */
export function revokeSignedOutTokens(): void {
  void sendKeptLogouts();
  addEventListener('online', () => void sendKeptLogouts());
}
