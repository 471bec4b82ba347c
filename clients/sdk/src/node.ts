// Node entry point (`@confab/sdk/node`): Node 20 has no global WebSocket, so the connection
// uses the ws package here, with the token in the Authorization header. Kept apart from the
// main entry so that browser bundles never include ws.
import WebSocket from 'ws';
import type { WebSocketFactory, WebSocketLike } from './connection.js';

export const nodeWebSocketFactory: WebSocketFactory = (url, token) =>
  new WebSocket(url, { headers: { authorization: `Bearer ${token}` } }) as unknown as WebSocketLike;
