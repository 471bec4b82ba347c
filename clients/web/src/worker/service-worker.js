// The app shell for an offline start: index.html and the hashed assets of this build are kept
// in the Cache Storage at install, so the app opens (and shows the SDK's IndexedDB cache) while
// the server cannot be reached. Pages are fetched from the network first (a new build shows as
// soon as it is deployed); hashed assets never change, so the kept copy answers. The API is
// never touched here. scripts/build.mjs fills in BUILD and FILES.
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
    event.respondWith(fetch(request).catch(() => caches.match('/', { cacheName: shell }).then((hit) => hit ?? Response.error())));
    return;
  }
  if (url.pathname.startsWith('/assets/'))
    event.respondWith(caches.match(request, { cacheName: shell }).then((hit) => hit ?? fetch(request)));
});
