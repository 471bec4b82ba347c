// The app shell for an offline start: index.html and the hashed assets of this build are kept
// in the Cache Storage at install, so the app opens (and shows the SDK's IndexedDB cache) while
// the server cannot be reached. Pages are fetched from the network first (a new build shows as
// soon as it is deployed); hashed assets never change, so the kept copy answers. The API is
// never touched here. scripts/build.mjs fills in BUILD and FILES.
//
// Every lookup ignores Vary: Confab answers with `Vary: Origin`, and Chromium sends Origin on a
// module script's request but cache.addAll stored each file under a request without one, so a
// lookup that honoured Vary missed every script and an offline reload or new tab stayed blank.
// The kept copies are this build's own files, the same for every origin.
const build = '%BUILD%';
const files = %FILES%;
const shell = `confab-shell-${build}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(shell).then((cache) => cache.addAll(files)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith('confab-shell-') && name !== shell).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate') {
    // Every app route is index.html (Confab's fallback does the same).
    event.respondWith(fetch(request).catch(() => kept('/').then((hit) => hit ?? Response.error())));
    return;
  }
  // Hashed assets never change; the icon is this build's too (a new build installs its own copy).
  if (url.pathname.startsWith('/assets/') || url.pathname === '/favicon.svg')
    event.respondWith(kept(request).then((hit) => hit ?? fetch(request)));
});

function kept(request) {
  return caches.match(request, { cacheName: shell, ignoreVary: true });
}
