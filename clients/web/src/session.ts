// The signed-in user's client: the SDK's ConfabClient with its cache in IndexedDB and its
// outbox in localStorage, and the stores the pages share.
import { ChatBloc, ConfabClient, IndexedDbCache, KeyValueOutboxStorage, RestClient, UploadBloc } from '@confab/sdk';
import type { PendingAction, SignedIn, UserModel } from '@confab/sdk';
import { CallController } from './call.js';
import { forgetMediaUrls } from './media.js';

const sessionKey = 'confab.session';
const cacheName = (userId: string) => `confab.cache.${userId}`;
const outboxKey = (userId: string) => `confab.outbox.${userId}`;
const actionsKey = (userId: string) => `confab.actions.${userId}`;

export interface Session {
  token: string;
  user: UserModel;
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
  const session = { token, user, client, chats: new ChatBloc(client), uploads: new UploadBloc(client), calls: new CallController(client, user.id) };
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
  await session.client.rest.logout().catch(() => undefined);
  session.chats.dispose();
  session.uploads.dispose();
  localStorage.removeItem(sessionKey);
  forgetMediaUrls();
  await session.client.cache.clear();
  localStorage.removeItem(outboxKey(session.user.id));
  localStorage.removeItem(actionsKey(session.user.id));
}
