// Checking a community credential in the browser, from public documents only: the issuer's
// did:webvh log (its keys), the eddsa-jcs-2022 proof, the validity window and the Bitstring
// Status Lists. Every check is reported, passed or not, so a member sees why.

import { base64urlDecode, multikeyDecode, publicKeyFromDidKey, verifyProofWithKey } from "./crypto.js";

function communityOf(issuer) {
  // did:webvh:<scid>:<host>:c:<community>
  const parts = String(issuer).split(":");
  if (parts[0] !== "did" || parts[1] !== "webvh" || parts.at(-2) !== "c") return null;
  return decodeURIComponent(parts.at(-1));
}

async function fetchText(path) {
  const response = await fetch(path, { credentials: "omit", cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.text();
}

/** The issuer's DID log, each entry's proof checked against the keys allowed to sign it. */
export async function issuerKeys(issuer) {
  const community = communityOf(issuer);
  if (!community) throw new Error(`${issuer} is not a community did:webvh`);
  const lines = (await fetchText(`/c/${encodeURIComponent(community)}/did.jsonl`)).trim().split("\n");
  const entries = lines.map((line) => JSON.parse(line));
  let allowed = null;
  for (const entry of entries) {
    const proofs = [].concat(entry.proof || []);
    const updateKeys = entry.parameters?.updateKeys ?? allowed;
    const authorised = new Set([...(allowed ?? []), ...(updateKeys ?? [])]);
    if (!proofs.length) throw new Error(`log entry ${entry.versionId} has no proof`);
    for (const proof of proofs) {
      const did = String(proof.verificationMethod).split("#")[0];
      const multikey = did.slice("did:key:".length);
      if (!authorised.has(multikey)) throw new Error(`log entry ${entry.versionId}: signed by an unauthorised key`);
      const ok = await verifyProofWithKey({ ...entry, proof }, publicKeyFromDidKey(did));
      if (!ok) throw new Error(`log entry ${entry.versionId}: its proof does not verify`);
    }
    allowed = updateKeys;
  }
  const state = entries.at(-1).state;
  if (state.id !== issuer) throw new Error(`the log is for ${state.id}, not ${issuer}`);
  const keys = new Map();
  for (const method of state.verificationMethod || []) {
    keys.set(method.id, multikeyDecode(method.publicKeyMultibase));
  }
  return { keys, assertion: new Set(state.assertionMethod || []), versions: entries.length };
}

async function gunzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function bitAt(bits, index) {
  return (bits[index >> 3] >> (7 - (index % 8))) & 1;
}

async function statusBit(entry, issuer, keys) {
  const url = new URL(entry.statusListCredential);
  const list = JSON.parse(await fetchText(url.pathname)); // the same community, served here
  if (list.issuer !== issuer) throw new Error("the status list has another issuer");
  const key = keys.keys.get(list.proof?.verificationMethod);
  if (!key || !(await verifyProofWithKey(list, key))) throw new Error("the status list's proof does not verify");
  const encoded = list.credentialSubject?.encodedList;
  if (typeof encoded !== "string" || !encoded.startsWith("u")) throw new Error("malformed encodedList");
  const bits = await gunzip(base64urlDecode(encoded.slice(1)));
  const index = Number(entry.statusListIndex);
  if (!Number.isInteger(index) || index < 0 || index >= bits.length * 8) throw new Error("index out of range");
  return bitAt(bits, index);
}

/** Verify a credential; answers {valid, checks: [{name, ok, detail}]}. */
export async function verifyCredential(credential, { subject = null, now = new Date() } = {}) {
  const checks = [];
  const check = (name, ok, detail = "") => checks.push({ name, ok, detail });
  // Not a credential at all: say so once, rather than each check failing on a missing part.
  const types = credential && typeof credential === "object" ? [].concat(credential.type || []) : [];
  const missing = ["issuer", "credentialSubject", "proof"].filter((part) => !(credential && typeof credential === "object" && credential[part]));
  if (!types.includes("VerifiableCredential") || missing.length) {
    check("A verifiable credential", false,
      types.includes("VerifiableCredential") ? `it has no ${missing.join(", ")}` : "this file is not a W3C verifiable credential (its type does not name VerifiableCredential)");
    return { valid: false, checks };
  }
  let keys = null;
  try {
    keys = await issuerKeys(credential.issuer);
    check("Issuer's DID log", true, `${keys.versions} version${keys.versions === 1 ? "" : "s"}, every entry signed by an authorised key`);
  } catch (error) {
    check("Issuer's DID log", false, error.message);
  }
  const method = credential.proof?.verificationMethod;
  if (keys) {
    const key = keys.keys.get(method);
    const ok = Boolean(key) && keys.assertion.has(method) && (await verifyProofWithKey(credential, key));
    check("Signature (eddsa-jcs-2022)", ok, ok ? `signed by ${method}` : "the signature does not verify");
  }
  const from = Date.parse(credential.validFrom);
  const until = credential.validUntil ? Date.parse(credential.validUntil) : Infinity;
  check(
    "Validity period",
    from <= now.getTime() && now.getTime() <= until,
    `${credential.validFrom} to ${credential.validUntil ?? "no end"}`,
  );
  if (subject) {
    check("Issued to you", credential.credentialSubject?.id === subject, credential.credentialSubject?.id);
  }
  for (const entry of [].concat(credential.credentialStatus || [])) {
    const purpose = entry.statusPurpose;
    try {
      const bit = keys ? await statusBit(entry, credential.issuer, keys) : 1;
      check(`Not ${purpose === "revocation" ? "revoked" : "suspended"}`, bit === 0, bit ? `${purpose} bit set` : "status bit clear");
    } catch (error) {
      check(`Status (${purpose})`, false, error.message);
    }
  }
  return { valid: checks.every((c) => c.ok), checks };
}
