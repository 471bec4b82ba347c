import { ConfabClient, RestClient, type WebSocketFactory } from '../../src/index.js';
import { nodeWebSocketFactory as plainFactory } from '../../src/node.js';
import { serverFrameProblems } from './contract.js';

/** Every server event the tests' clients received that does not match docs/asyncapi.yaml. */
export const contractProblems: string[] = [];

/** The SDK's Node factory, checking every pushed frame against the AsyncAPI document. */
export const nodeWebSocketFactory: WebSocketFactory = (url, token) => {
  const socket = plainFactory(url, token) as unknown as { on(event: 'message', listener: (data: Buffer) => void): void };
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type?: string; id?: string };
    if (frame.id === undefined) contractProblems.push(...serverFrameProblems(frame));
  });
  return socket as never;
};

let userCounter = 0;

export async function signUp(baseUrl: string, name: string): Promise<{ token: string; userId: string }> {
  const rest = new RestClient({ baseUrl });
  const username = `${name}_${process.pid}_${++userCounter}`.slice(0, 32);
  const signedIn = await rest.register({ username, password: 'correct horse battery', display_name: name });
  return { token: signedIn.token, userId: signedIn.user.id };
}

export async function connectedClient(baseUrl: string, name: string): Promise<ConfabClient> {
  const { token, userId } = await signUp(baseUrl, name);
  const client = new ConfabClient({
    baseUrl, token, userId,
    webSocketFactory: nodeWebSocketFactory,
    reconnectBackoff: { baseMs: 50, capMs: 500 },
    backoff: { baseMs: 50, capMs: 500 },
  });
  await client.start();
  await until(client, (c) => c.state === 'online');
  return client;
}

/** Resolves once `predicate` holds for the client, checked at every change it reports. */
export function until(client: ConfabClient, predicate: (client: ConfabClient) => boolean, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate(client)) return resolve();
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}`)), 60_000);
    const stopState = client.connection.onState(() => check());
    const stopChange = client.subscribe(() => check());
    function check() {
      if (predicate(client)) done();
    }
    function done(error?: Error) {
      clearTimeout(timer);
      stopState();
      stopChange();
      if (error) reject(error);
      else resolve();
    }
  });
}

/** Resolves with the first state of a bloc that satisfies `predicate`. */
export function stateWhere<S extends object>(
  bloc: { subscribe(listener: (state: S) => void): () => void },
  predicate: (state: S) => boolean,
  what = 'state',
): Promise<S> {
  return new Promise((resolve, reject) => {
    let stop: (() => void) | undefined;
    let found: S | undefined;
    const timer = setTimeout(() => {
      stop?.();
      reject(new Error(`timed out waiting for ${what}`));
    }, 60_000);
    stop = bloc.subscribe((state) => {
      if (found === undefined && predicate(state)) {
        found = state;
        clearTimeout(timer);
        queueMicrotask(() => stop?.());
        resolve(state);
      }
    });
    if (found !== undefined) stop();
  });
}

/** Two signed-in, connected users and the direct chat between them. */
export async function pair(baseUrl: string) {
  const alice = await connectedClient(baseUrl, 'alice');
  const bob = await connectedClient(baseUrl, 'bob');
  const chat = await alice.rest.createChat({ type: 'direct', member_ids: [bob.userId!] });
  return { alice, bob, chat };
}
