// The app shell works offline: its files are cached at install and refreshed from the network
// whenever it answers. API calls (/c/…) always go to the network and are never cached.
const CACHE = "cos-shell-v14";
const SHELL = [
  "/app/",
  "/app/app.css",
  "/app/manifest.webmanifest",
  "/app/bip39-english.txt",
  "/app/icons/icon.svg",
  "/app/icons/icon-192.png",
  "/app/js/app.js",
  "/app/js/api.js",
  "/app/js/crypto.js",
  "/app/js/store.js",
  "/app/js/ui.js",
  "/app/js/verify.js",
  "/app/js/modules.js",
  "/app/js/sealed.js",
  "/app/js/social.js",
  "/app/js/moderation.js",
  "/app/js/decide.js",
  "/app/js/ballot.js",
  "/app/js/trustee.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/app/")) {
    return;
  }
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || caches.match("/app/"))),
  );
});
