// What stays on this device: the member's key (a non-extractable WebCrypto key in IndexedDB,
// never the phrase), the communities she belongs to, and her current sessions.

const DB = "community-os";
const VERSION = 1;

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function tx(mode, run) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction("kv", mode);
      const result = run(t.objectStore("kv"));
      t.oncomplete = () => resolve(result.result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

export const get = (key) => tx("readonly", (store) => store.get(key));
export const put = (key, value) => tx("readwrite", (store) => store.put(value, key));
export const remove = (key) => tx("readwrite", (store) => store.delete(key));

export async function identity() {
  return (await get("identity")) ?? null;
}

export async function saveIdentity(keys) {
  const record = {
    did: keys.did,
    verificationMethod: keys.verificationMethod,
    publicKey: keys.publicKey,
    privateKey: keys.privateKey,
    x25519PrivateKey: keys.x25519PrivateKey,
    created: new Date().toISOString(),
  };
  await put("identity", record);
  return record;
}

export async function communities() {
  return (await get("communities")) ?? [];
}

export async function rememberCommunity(slug, name) {
  const known = (await communities()).filter((c) => c.slug !== slug);
  known.unshift({ slug, name, seen: new Date().toISOString() });
  await put("communities", known);
  localStorage.setItem("cos.current", slug);
}

export function currentCommunity() {
  return localStorage.getItem("cos.current");
}

export async function forgetEverything() {
  await remove("identity");
  await remove("communities");
  localStorage.clear();
  sessionStorage.clear();
}

/** Signed out of a community on this device: the key stays, but nothing signs in until she asks. */
export function signedOut(slug) {
  return localStorage.getItem(`cos.signed-out.${slug}`) === "1";
}

export function setSignedOut(slug, out) {
  if (out) localStorage.setItem(`cos.signed-out.${slug}`, "1");
  else localStorage.removeItem(`cos.signed-out.${slug}`);
}
