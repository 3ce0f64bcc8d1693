// End-to-end encrypted chat: libsodium-compatible sealed boxes (crypto_box_seal) to the X25519
// key of each member's did:key. X25519 is WebCrypto's; XSalsa20-Poly1305 and BLAKE2b (which the
// browser does not offer) are written out here from their specifications, checked in the browser
// tests against PyNaCl and hashlib byte for byte.

import { base58Encode, concat, publicKeyFromDidKey } from "./crypto.js";

const P25519 = 2n ** 255n - 19n;

function leToBig(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

function bigToLe(n, length) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function modpow(base, exponent, modulus) {
  let result = 1n;
  base %= modulus;
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
    exponent >>= 1n;
  }
  return result;
}

/** The Montgomery form of an Ed25519 public key, u = (1 + y) / (1 - y): what did:key publishes. */
export function ed25519ToX25519Public(edPublic) {
  const bytes = edPublic.slice();
  bytes[31] &= 0x7f;
  const y = leToBig(bytes);
  const u = ((1n + y) * modpow((1n - y + P25519) % P25519, P25519 - 2n, P25519)) % P25519;
  return bigToLe(u, 32);
}

export function x25519Multikey(publicKey) {
  return "z" + base58Encode(concat(Uint8Array.of(0xec, 0x01), publicKey));
}

// -- Salsa20 family -------------------------------------------------------------------------

const SIGMA_WORDS = Uint32Array.of(0x61707865, 0x3320646e, 0x79622d32, 0x6b206574);
const rotl = (a, b) => (a << b) | (a >>> (32 - b));

function salsaCore(input, hsalsa) {
  const x = Uint32Array.from(input);
  for (let i = 0; i < 20; i += 2) {
    x[4] ^= rotl(x[0] + x[12], 7); x[8] ^= rotl(x[4] + x[0], 9); x[12] ^= rotl(x[8] + x[4], 13); x[0] ^= rotl(x[12] + x[8], 18);
    x[9] ^= rotl(x[5] + x[1], 7); x[13] ^= rotl(x[9] + x[5], 9); x[1] ^= rotl(x[13] + x[9], 13); x[5] ^= rotl(x[1] + x[13], 18);
    x[14] ^= rotl(x[10] + x[6], 7); x[2] ^= rotl(x[14] + x[10], 9); x[6] ^= rotl(x[2] + x[14], 13); x[10] ^= rotl(x[6] + x[2], 18);
    x[3] ^= rotl(x[15] + x[11], 7); x[7] ^= rotl(x[3] + x[15], 9); x[11] ^= rotl(x[7] + x[3], 13); x[15] ^= rotl(x[11] + x[7], 18);
    x[1] ^= rotl(x[0] + x[3], 7); x[2] ^= rotl(x[1] + x[0], 9); x[3] ^= rotl(x[2] + x[1], 13); x[0] ^= rotl(x[3] + x[2], 18);
    x[6] ^= rotl(x[5] + x[4], 7); x[7] ^= rotl(x[6] + x[5], 9); x[4] ^= rotl(x[7] + x[6], 13); x[5] ^= rotl(x[4] + x[7], 18);
    x[11] ^= rotl(x[10] + x[9], 7); x[8] ^= rotl(x[11] + x[10], 9); x[9] ^= rotl(x[8] + x[11], 13); x[10] ^= rotl(x[9] + x[8], 18);
    x[12] ^= rotl(x[15] + x[14], 7); x[13] ^= rotl(x[12] + x[15], 9); x[14] ^= rotl(x[13] + x[12], 13); x[15] ^= rotl(x[14] + x[13], 18);
  }
  if (hsalsa) return Uint32Array.of(x[0], x[5], x[10], x[15], x[6], x[7], x[8], x[9]);
  for (let i = 0; i < 16; i++) x[i] = (x[i] + input[i]) >>> 0;
  return x;
}

function words(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint32Array.from({ length: bytes.length / 4 }, (_, i) => view.getUint32(4 * i, true));
}

function bytesOf(wordArray) {
  const out = new Uint8Array(wordArray.length * 4);
  const view = new DataView(out.buffer);
  wordArray.forEach((w, i) => view.setUint32(4 * i, w, true));
  return out;
}

function salsaInput(key, nonce16) {
  const k = words(key);
  const n = words(nonce16);
  return Uint32Array.of(SIGMA_WORDS[0], k[0], k[1], k[2], k[3], SIGMA_WORDS[1], n[0], n[1], n[2], n[3], SIGMA_WORDS[2], k[4], k[5], k[6], k[7], SIGMA_WORDS[3]);
}

export function hsalsa20(key, nonce16) {
  return bytesOf(salsaCore(salsaInput(key, nonce16), true));
}

function xsalsa20Stream(key, nonce24, length) {
  const subkey = hsalsa20(key, nonce24.subarray(0, 16));
  const out = new Uint8Array(length);
  for (let block = 0, at = 0; at < length; block++, at += 64) {
    const counter = new Uint8Array(16);
    counter.set(nonce24.subarray(16, 24), 0);
    new DataView(counter.buffer).setUint32(8, block, true);
    const stream = bytesOf(salsaCore(salsaInput(subkey, counter), false));
    out.set(stream.subarray(0, Math.min(64, length - at)), at);
  }
  subkey.fill(0);
  return out;
}

// -- Poly1305 -------------------------------------------------------------------------------

const P1305 = (1n << 130n) - 5n;

export function poly1305(message, key) {
  const r = leToBig(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = leToBig(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < message.length; i += 16) {
    const chunk = message.subarray(i, i + 16);
    acc = ((acc + leToBig(chunk) + (1n << BigInt(8 * chunk.length))) * r) % P1305;
  }
  return bigToLe((acc + s) & ((1n << 128n) - 1n), 16);
}

function secretbox(message, nonce, key) {
  const stream = xsalsa20Stream(key, nonce, 32 + message.length);
  const cipher = message.map((b, i) => b ^ stream[32 + i]);
  return concat(poly1305(cipher, stream.subarray(0, 32)), cipher);
}

function secretboxOpen(boxed, nonce, key) {
  if (boxed.length < 16) throw new Error("too short");
  const tag = boxed.subarray(0, 16);
  const cipher = boxed.subarray(16);
  const stream = xsalsa20Stream(key, nonce, 32 + cipher.length);
  const expected = poly1305(cipher, stream.subarray(0, 32));
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= expected[i] ^ tag[i];
  if (diff) throw new Error("the message was altered or is not for this key");
  return cipher.map((b, i) => b ^ stream[32 + i]);
}

// -- BLAKE2b (RFC 7693), unkeyed ------------------------------------------------------------

const MASK64 = (1n << 64n) - 1n;
const B2_IV = [
  0x6a09e667f3bcc908n, 0xbb67ae8584caa73bn, 0x3c6ef372fe94f82bn, 0xa54ff53a5f1d36f1n,
  0x510e527fade682d1n, 0x9b05688c2b3e6c1fn, 0x1f83d9abfb41bd6bn, 0x5be0cd19137e2179n,
];
const B2_SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];
const rotr64 = (x, n) => ((x >> n) | (x << (64n - n))) & MASK64;

function b2Compress(h, block, counter, last) {
  const v = [...h, ...B2_IV];
  v[12] ^= counter & MASK64;
  v[13] ^= counter >> 64n;
  if (last) v[14] ^= MASK64;
  const m = Array.from({ length: 16 }, (_, i) => leToBig(block.subarray(8 * i, 8 * i + 8)));
  const g = (a, b, c, d, x, y) => {
    v[a] = (v[a] + v[b] + x) & MASK64; v[d] = rotr64(v[d] ^ v[a], 32n);
    v[c] = (v[c] + v[d]) & MASK64; v[b] = rotr64(v[b] ^ v[c], 24n);
    v[a] = (v[a] + v[b] + y) & MASK64; v[d] = rotr64(v[d] ^ v[a], 16n);
    v[c] = (v[c] + v[d]) & MASK64; v[b] = rotr64(v[b] ^ v[c], 63n);
  };
  for (let round = 0; round < 12; round++) {
    const s = B2_SIGMA[round % 10];
    g(0, 4, 8, 12, m[s[0]], m[s[1]]); g(1, 5, 9, 13, m[s[2]], m[s[3]]);
    g(2, 6, 10, 14, m[s[4]], m[s[5]]); g(3, 7, 11, 15, m[s[6]], m[s[7]]);
    g(0, 5, 10, 15, m[s[8]], m[s[9]]); g(1, 6, 11, 12, m[s[10]], m[s[11]]);
    g(2, 7, 8, 13, m[s[12]], m[s[13]]); g(3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (let i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

export function blake2b(data, outlen = 64) {
  const h = [...B2_IV];
  h[0] ^= 0x01010000n ^ BigInt(outlen);
  const blocks = Math.max(1, Math.ceil(data.length / 128));
  for (let i = 0; i < blocks; i++) {
    const block = new Uint8Array(128);
    block.set(data.subarray(128 * i, 128 * (i + 1)));
    const last = i === blocks - 1;
    b2Compress(h, block, BigInt(last ? data.length : 128 * (i + 1)), last);
  }
  return concat(...h.map((word) => bigToLe(word, 8))).slice(0, outlen);
}

// -- sealed boxes ---------------------------------------------------------------------------

async function sharedKey(privateKey, publicKey) {
  const peer = await crypto.subtle.importKey("raw", publicKey, { name: "X25519" }, false, []);
  const shared = new Uint8Array(await crypto.subtle.deriveBits({ name: "X25519", public: peer }, privateKey, 256));
  try {
    return hsalsa20(shared, new Uint8Array(16));
  } finally {
    shared.fill(0);
  }
}

/** crypto_box_seal: an ephemeral key, nonce = BLAKE2b-192(epk || pk), then crypto_box. */
export async function seal(message, recipientPublic) {
  const ephemeral = await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
  const epk = new Uint8Array(await crypto.subtle.exportKey("raw", ephemeral.publicKey));
  const key = await sharedKey(ephemeral.privateKey, recipientPublic);
  const nonce = blake2b(concat(epk, recipientPublic), 24);
  try {
    return concat(epk, secretbox(message, nonce, key));
  } finally {
    key.fill(0);
  }
}

export async function sealOpen(sealed, privateKey, publicKey) {
  if (sealed.length < 48) throw new Error("too short to be a sealed box");
  const epk = sealed.subarray(0, 32);
  const key = await sharedKey(privateKey, epk);
  try {
    return secretboxOpen(sealed.subarray(32), blake2b(concat(epk, publicKey), 24), key);
  } finally {
    key.fill(0);
  }
}

export const toBase64 = (bytes) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
export const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** One recipient's copy of a chat message: {to, key, box} as the messaging service stores it. */
export async function sealFor(text, did) {
  const publicKey = ed25519ToX25519Public(publicKeyFromDidKey(did));
  const box = await seal(new TextEncoder().encode(text), publicKey);
  return { to: did, key: x25519Multikey(publicKey), box: toBase64(box) };
}

/** Open my copy ({key, box}) with my X25519 key ({privateKey, publicKey}). */
export async function openSealed(mine, x25519) {
  if (mine.key !== x25519Multikey(x25519.publicKey)) throw new Error("sealed to another key");
  const plain = await sealOpen(fromBase64(mine.box), x25519.privateKey, x25519.publicKey);
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}
