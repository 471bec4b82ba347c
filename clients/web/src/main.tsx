import { render } from 'preact';
import { App } from './App.js';
import { revokeSignedOutTokens } from './session.js';

revokeSignedOutTokens();

render(<App />, document.getElementById('app')!);

// The app shell kept for offline starts (src/worker/service-worker.js); the app works without it.
if ('serviceWorker' in navigator) void navigator.serviceWorker.register('/service-worker.js').catch(() => undefined);
