// A member's keys and signatures in the browser, byte for byte what shared/trust and
// shared/statements.py produce: BIP-39 phrase -> seed -> SLIP-0010 Ed25519 at m/26'/0'/0'/0'
// -> WebCrypto Ed25519 key (PKCS#8 built from the seed) -> did:key; statements and credentials
// secured with eddsa-jcs-2022 (RFC 8785 JCS, SHA-256, Ed25519, multibase base58btc).

export const MEMBER_SIGNING_PATH = "m/26'/0'/0'/0'";
export const PHRASE_WORDS = 24;
export const STATEMENT_TYPE = "CommunityStatement";
export const VC_CONTEXT = "https://www.w3.org/ns/credentials/v2";

const encoder = new TextEncoder();
const HARDENED = 0x80000000;
const PKCS8_ED25519_PREFIX = hexToBytes("302e020100300506032b657004220420");
const PKCS8_X25519_PREFIX = hexToBytes("302e020100300506032b656e04220420");
const ED25519_PUB = Uint8Array.of(0xed, 0x01);
const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

export class PhraseError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// -- bytes ----------------------------------------------------------------------------------

export function hexToBytes(hex) {
  if (hex.length % 2) throw new TypeError("odd-length hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function base58Encode(bytes) {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const digits = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i];
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j] << 8;
      digits[j] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  return "1".repeat(zeros) + digits.reverse().map((d) => B58[d]).join("");
}

export function base58Decode(text) {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros++;
  const bytes = [];
  for (let i = zeros; i < text.length; i++) {
    let carry = B58.indexOf(text[i]);
    if (carry < 0) throw new TypeError(`not base58btc: ${text[i]}`);
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j] * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  return concat(new Uint8Array(zeros), Uint8Array.from(bytes.reverse()));
}

export function base64urlDecode(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export function randomHex(bytes = 16) {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

export function randomToken(bytes = 24) {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// -- BIP-39 ---------------------------------------------------------------------------------

let wordsPromise = null;

export function wordlist() {
  wordsPromise ??= fetch(new URL("../bip39-english.txt", import.meta.url))
    .then((r) => {
      if (!r.ok) throw new Error(`word list: HTTP ${r.status}`);
      return r.text();
    })
    .then((text) => {
      const words = text.trim().split(/\r?\n/);
      if (words.length !== 2048) throw new Error("the BIP-39 word list must have 2048 words");
      return words;
    });
  return wordsPromise;
}

export async function entropyToPhrase(entropy) {
  if (entropy.length < 16 || entropy.length > 32 || entropy.length % 4) {
    throw new PhraseError("bad_entropy", "entropy is 16 to 32 bytes, a multiple of 4");
  }
  const words = await wordlist();
  const checksumBits = entropy.length / 4;
  const hash = await sha256(entropy);
  let bits = "";
  for (const b of entropy) bits += b.toString(2).padStart(8, "0");
  bits += hash[0].toString(2).padStart(8, "0").slice(0, checksumBits);
  const out = [];
  for (let i = 0; i < bits.length; i += 11) out.push(words[parseInt(bits.slice(i, i + 11), 2)]);
  return out.join(" ");
}

export async function newPhrase() {
  return entropyToPhrase(crypto.getRandomValues(new Uint8Array(32)));
}

export function normalizePhrase(phrase) {
  return phrase.normalize("NFKD").toLowerCase().split(/\s+/).filter(Boolean).join(" ");
}

/** The normalized phrase, or PhraseError; `words` is the required count (null: any BIP-39 length). */
export async function validatePhrase(phrase, words = PHRASE_WORDS) {
  const normalized = normalizePhrase(phrase);
  const tokens = normalized ? normalized.split(" ") : [];
  const allowed = words === null ? [12, 15, 18, 21, 24] : [words];
  if (!allowed.includes(tokens.length)) {
    throw new PhraseError(
      "wrong_word_count",
      `a recovery phrase has ${allowed.join(" or ")} words, this one has ${tokens.length}`,
    );
  }
  const list = await wordlist();
  const index = new Map(list.map((w, i) => [w, i]));
  let bits = "";
  for (const [position, token] of tokens.entries()) {
    if (!index.has(token)) {
      throw new PhraseError(
        "unknown_word",
        `word ${position + 1} ("${token}") is not in the BIP-39 English word list`,
      );
    }
    bits += index.get(token).toString(2).padStart(11, "0");
  }
  const checksumBits = bits.length / 33;
  const entropy = new Uint8Array((bits.length - checksumBits) / 8);
  for (let i = 0; i < entropy.length; i++) entropy[i] = parseInt(bits.slice(8 * i, 8 * i + 8), 2);
  const hash = await sha256(entropy);
  const expected = hash[0].toString(2).padStart(8, "0").slice(0, checksumBits);
  if (bits.slice(bits.length - checksumBits) !== expected) {
    throw new PhraseError(
      "bad_checksum",
      "the phrase's checksum does not match: a word is wrong or out of order",
    );
  }
  return normalized;
}

export async function phraseToSeed(phrase, passphrase = "", words = PHRASE_WORDS) {
  const normalized = await validatePhrase(phrase, words);
  const key = await crypto.subtle.importKey("raw", encoder.encode(normalized), "PBKDF2", false, [
    "deriveBits",
  ]);
  const salt = encoder.encode("mnemonic" + passphrase.normalize("NFKD"));
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-512", salt, iterations: 2048 },
    key,
    512,
  );
  return new Uint8Array(bits);
}

// -- SLIP-0010 (ed25519, hardened only) -----------------------------------------------------

async function hmacSha512(key, data) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-512" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

export function parsePath(path) {
  const segments = path.split("/");
  if (segments[0] !== "m") throw new Error(`a path starts with 'm': ${path}`);
  return segments.slice(1).map((segment) => {
    const match = /^(0|[1-9][0-9]*)(['hH])$/.exec(segment);
    if (!match || Number(match[1]) >= HARDENED) {
      throw new Error(`path segment ${segment} is not a hardened index below 2**31`);
    }
    return Number(match[1]) + HARDENED;
  });
}

export async function derivePath(seed, path) {
  let digest = await hmacSha512(encoder.encode("ed25519 seed"), seed);
  let privateKey = digest.slice(0, 32);
  let chainCode = digest.slice(32);
  for (const index of parsePath(path)) {
    const data = new Uint8Array(37);
    data.set(privateKey, 1);
    new DataView(data.buffer).setUint32(33, index, false);
    digest = await hmacSha512(chainCode, data);
    privateKey = digest.slice(0, 32);
    chainCode = digest.slice(32);
  }
  return { privateKey, chainCode };
}

// -- Ed25519 keys and did:key ---------------------------------------------------------------

export function multikeyEncode(publicKey) {
  return "z" + base58Encode(concat(ED25519_PUB, publicKey));
}

export function multikeyDecode(value) {
  if (!value.startsWith("z")) throw new Error("a Multikey is multibase base58btc ('z…')");
  const raw = base58Decode(value.slice(1));
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) {
    throw new Error("not an Ed25519 Multikey");
  }
  return raw.slice(2);
}

export function didKeyFromPublicKey(publicKey) {
  return `did:key:${multikeyEncode(publicKey)}`;
}

export function publicKeyFromDidKey(did) {
  if (!did.startsWith("did:key:")) throw new Error("not a did:key");
  return multikeyDecode(did.slice("did:key:".length));
}

/** Her X25519 private key from the Ed25519 seed (SHA-512, first half, clamped), as libsodium's
 * crypto_sign_ed25519_sk_to_curve25519 makes it: sealed chat messages are opened with it. */
export async function x25519FromEd25519Seed(seed) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-512", seed));
  const scalar = digest.slice(0, 32);
  digest.fill(0);
  scalar[0] &= 248;
  scalar[31] &= 127;
  scalar[31] |= 64;
  const pkcs8 = concat(PKCS8_X25519_PREFIX, scalar);
  scalar.fill(0);
  try {
    return await crypto.subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, false, ["deriveBits"]);
  } finally {
    pkcs8.fill(0);
  }
}

/** The member's keys from a 32-byte Ed25519 seed; the private CryptoKeys are not extractable. */
export async function keysFromEd25519Seed(seed) {
  const pkcs8 = concat(PKCS8_ED25519_PREFIX, seed);
  try {
    const exportable = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, [
      "sign",
    ]);
    const jwk = await crypto.subtle.exportKey("jwk", exportable);
    const publicKey = base64urlDecode(jwk.x);
    const privateKey = await crypto.subtle.importKey(
      "pkcs8",
      pkcs8,
      { name: "Ed25519" },
      false,
      ["sign"],
    );
    const x25519PrivateKey = await x25519FromEd25519Seed(seed);
    const did = didKeyFromPublicKey(publicKey);
    return { did, verificationMethod: `${did}#${multikeyEncode(publicKey)}`, publicKey, privateKey, x25519PrivateKey };
  } finally {
    pkcs8.fill(0);
  }
}

export async function keysFromPhrase(phrase, passphrase = "") {
  const seed = await phraseToSeed(phrase, passphrase);
  const node = await derivePath(seed, MEMBER_SIGNING_PATH);
  seed.fill(0);
  try {
    return await keysFromEd25519Seed(node.privateKey);
  } finally {
    node.privateKey.fill(0);
    node.chainCode.fill(0);
  }
}

// -- JCS (RFC 8785) -------------------------------------------------------------------------

export function canonicalize(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("JSON has no NaN or Infinity");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(",")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(value[k])}`).join(",")}}`;
  }
  throw new TypeError(`not JSON: ${typeof value}`);
}

// -- Data Integrity, eddsa-jcs-2022 ---------------------------------------------------------

export function formatDatetime(moment) {
  return new Date(Math.floor(moment.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export function proofOptions(verificationMethod, created, proofPurpose = "assertionMethod") {
  return {
    type: "DataIntegrityProof",
    cryptosuite: "eddsa-jcs-2022",
    created: formatDatetime(created),
    verificationMethod,
    proofPurpose,
  };
}

async function hashData(unsecured, proofConfig) {
  const config = await sha256(encoder.encode(canonicalize(proofConfig)));
  const document = await sha256(encoder.encode(canonicalize(unsecured)));
  return concat(config, document);
}

export async function addProof(unsecured, options, privateKey) {
  if ("proof" in unsecured) throw new Error("the document already has a proof");
  const proof = structuredClone(options);
  if ("@context" in unsecured) proof["@context"] = structuredClone(unsecured["@context"]);
  const signature = new Uint8Array(
    await crypto.subtle.sign("Ed25519", privateKey, await hashData(unsecured, proof)),
  );
  proof.proofValue = "z" + base58Encode(signature);
  return { ...structuredClone(unsecured), proof };
}

/** Check an eddsa-jcs-2022 proof with a raw 32-byte public key; answers true or false. */
export async function verifyProofWithKey(secured, publicKey, proofPurpose = "assertionMethod") {
  const { proof, ...unsecured } = secured;
  if (!proof || proof.type !== "DataIntegrityProof" || proof.cryptosuite !== "eddsa-jcs-2022") {
    return false;
  }
  if (proof.proofPurpose !== proofPurpose || typeof proof.proofValue !== "string") return false;
  const { proofValue, ...options } = proof;
  if ("@context" in options) {
    const doc = [].concat(unsecured["@context"]);
    const mine = [].concat(options["@context"]);
    if (canonicalize(doc.slice(0, mine.length)) !== canonicalize(mine)) return false;
    unsecured["@context"] = options["@context"];
  }
  let signature;
  try {
    signature = base58Decode(proofValue.slice(1));
  } catch {
    return false;
  }
  if (!proofValue.startsWith("z") || signature.length !== 64) return false;
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, [
    "verify",
  ]);
  return crypto.subtle.verify("Ed25519", key, signature, await hashData(unsecured, options));
}

/** A CommunityStatement signed by the member, exactly as shared.statements.sign_statement. */
export async function signStatement(
  keys,
  { action, community, body, nonce = randomHex(16), now = new Date(), validForSeconds = 120 },
) {
  const document = {
    "@context": [VC_CONTEXT],
    type: STATEMENT_TYPE,
    action,
    community,
    actor: keys.did,
    nonce,
    validFrom: formatDatetime(now),
    validUntil: formatDatetime(new Date(now.getTime() + validForSeconds * 1000)),
    body,
  };
  return addProof(
    document,
    proofOptions(keys.verificationMethod, now, "authentication"),
    keys.privateKey,
  );
}

/** A credential issued by the member's own did:key (e.g. an InvitationCredential). */
export async function issueCredential(keys, credential, now = new Date()) {
  const unsigned = { ...structuredClone(credential), issuer: keys.did };
  return addProof(unsigned, proofOptions(keys.verificationMethod, now), keys.privateKey);
}
