// A trustee's part of a secret poll, in her browser, exactly as services/governance/crypto/ceremony.py
// does it: her polynomial is derived from her own Ed25519 signature of a fixed message naming the poll
// (deterministic, so nothing is stored between the key ceremony and the count); she publishes Feldman
// commitments with a Schnorr proof, and deals each other trustee a share sealed to the X25519 key of
// their did:key. At the count she rebuilds her key from the poll's public record, checking every share
// she received against its dealer's commitments, and proves each decryption factor (Chaum-Pedersen).

import { ORDER, ZERO_POINT, add, baseMul, bytesToBig, decodePoint, encodePoint, hashToScalar, hex, integer, mod, multiply, randomScalar, scalarHex, unhex } from "./ballot.js";
import { publicKeyFromDidKey } from "./crypto.js";
import { ed25519ToX25519Public, fromBase64, seal, sealOpen, toBase64 } from "./sealed.js";

const enc = new TextEncoder();
const text = (value) => enc.encode(value);
const IDENTITY_HEX = `01${"00".repeat(31)}`;

/** A refusal in words, typed like the service's errors. */
export class CeremonyError extends Error {
  constructor(type, message, dealer = null) {
    super(message);
    this.type = type;
    this.dealer = dealer;
  }
}

/** Her coefficients for this poll: hashes of her signature of the derivation message. */
export async function derivedCoefficients(keys, pollId, threshold) {
  const message = text(`community-os/secret-ballot/v1/trustee-polynomial\n${pollId}`);
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", keys.privateKey, message));
  try {
    const out = [];
    for (let k = 0; k < threshold; k++) out.push(await hashToScalar("trustee-polynomial", [signature, text(pollId), integer(k)]));
    return out;
  } finally {
    signature.fill(0);
  }
}

function evaluate(coefficients, at) {
  let value = 0n;
  for (let k = coefficients.length - 1; k >= 0; k--) value = mod(value * BigInt(at) + coefficients[k], ORDER);
  return value;
}

/** g^f(at) from the commitments alone: the product of C_k^(at^k). */
function commitmentAt(points, at) {
  let result = ZERO_POINT;
  let power = 1n;
  for (const point of points) {
    result = add(result, multiply(point, power));
    power = mod(power * BigInt(at), ORDER);
  }
  return result;
}

const sameHex = (p, q) => hex(encodePoint(p)) === hex(encodePoint(q));

/** Where she stands in the poll: her trustee number (1-based), or 0. */
export function trusteeIndex(poll, did) {
  return (poll.spec.secret?.trustees ?? []).indexOf(did) + 1;
}

/** Her `commit_trustee` body: commitments, the proof that she knows her secret, sealed shares. */
export async function dealAsTrustee(keys, poll) {
  const me = trusteeIndex(poll, keys.did);
  if (!me) throw new CeremonyError("not_a_trustee", "You are not one of this poll's trustees.");
  const { trustees, threshold } = poll.spec.secret;
  const pollId = poll.crypto_poll_id;
  const coefficients = await derivedCoefficients(keys, pollId, threshold);
  const statement = [text("dealer"), text(pollId), integer(me), integer(threshold), integer(trustees.length)];
  const nonce = randomScalar();
  const challenge = await hashToScalar("knowledge", [...statement, encodePoint(baseMul(coefficients[0])), encodePoint(baseMul(nonce))]);
  const commitment = {
    dealer: me,
    coefficients: coefficients.map((a) => hex(encodePoint(baseMul(a)))),
    proof: { challenge: scalarHex(challenge), response: scalarHex(mod(nonce - coefficients[0] * challenge, ORDER)) },
  };
  const shares = [];
  for (let j = 1; j <= trustees.length; j++) {
    if (j === me) continue;
    const share = JSON.stringify({ dealer: me, recipient: j, value: scalarHex(evaluate(coefficients, j)) });
    const box = await seal(text(share), ed25519ToX25519Public(publicKeyFromDidKey(trustees[j - 1])));
    shares.push({ recipient: j, box: toBase64(box) });
  }
  return { poll: poll.poll, commitment, shares };
}

/** Her decryption key x_j: her own share re-derived, and every other dealer's share opened and
 * checked against its published commitments. A CeremonyError names a dealer whose share is missing,
 * unreadable or false. */
export async function trusteeKey(keys, x25519, poll) {
  const me = trusteeIndex(poll, keys.did);
  if (!me) throw new CeremonyError("not_a_trustee", "You are not one of this poll's trustees.");
  const { threshold } = poll.spec.secret;
  const coefficients = await derivedCoefficients(keys, poll.crypto_poll_id, threshold);
  let secret = 0n;
  for (const commitment of poll.commitments) {
    const dealer = commitment.dealer;
    const rejected = (why) => new CeremonyError("share_rejected", `Trustee ${dealer}'s share for you ${why}: you cannot count with it until trustee ${dealer} reveals the true one.`, dealer);
    const answer = (poll.complaints ?? []).find((c) => c.dealer === dealer && c.recipient === me && c.revealed);
    let value;
    if (dealer === me) {
      value = evaluate(coefficients, me);
    } else if (answer) {
      // Revealed in public in answer to her complaint (the service checked it; so does she, below).
      value = bytesToBig(unhex(answer.revealed.value));
      if (answer.revealed.dealer !== dealer || answer.revealed.recipient !== me || value >= ORDER) throw rejected("revealed is not a share for you");
    } else {
      const sealed = (poll.sealed_shares ?? []).find((s) => s.dealer === dealer && s.recipient === me);
      if (!sealed) throw rejected("was not dealt through the community");
      let share;
      try {
        share = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(await sealOpen(fromBase64(sealed.box), x25519.privateKey, x25519.publicKey)));
      } catch {
        throw rejected("cannot be opened with your key");
      }
      if (share.dealer !== dealer || share.recipient !== me || !/^[0-9a-f]{64}$/.test(share.value ?? "")) throw rejected("is not a share for you");
      value = bytesToBig(unhex(share.value));
      if (value >= ORDER) throw rejected("is not a scalar");
    }
    const points = commitment.coefficients.map((c) => decodePoint(unhex(c)));
    if (!sameHex(baseMul(value), commitmentAt(points, me))) {
      throw dealer === me
        ? new CeremonyError("not_your_commitment", "Your key does not give the commitment you made for this poll: use the key you had then.")
        : rejected("does not match its public commitment");
    }
    secret = mod(secret + value, ORDER);
  }
  return { trustee: me, secret };
}

/** Her answer to a trustee's complaint: the share she dealt `recipient`, in the clear, re-derived
 * from her key (the service and everyone else check it against her published commitments). */
export async function revealedShare(keys, poll, recipient) {
  const me = trusteeIndex(poll, keys.did);
  if (!me) throw new CeremonyError("not_a_trustee", "You are not one of this poll's trustees.");
  const coefficients = await derivedCoefficients(keys, poll.crypto_poll_id, poll.spec.secret.threshold);
  return { dealer: me, recipient, value: scalarHex(evaluate(coefficients, recipient)) };
}

/** Her partial decryption of the poll's encrypted tally, each factor with its proof. */
export async function partialDecryption(key, poll) {
  const tally = poll.encrypted_tally;
  const factors = [];
  const proofs = [];
  for (let option = 0; option < tally.choices.length; option++) {
    const encoded = tally.choices[option].alpha;
    const alpha = encoded === IDENTITY_HEX ? ZERO_POINT : decodePoint(unhex(encoded));
    const factor = multiply(alpha, key.secret);
    const statement = [text("partial-decryption"), text(tally.poll_id), integer(key.trustee), integer(option)];
    const nonce = randomScalar();
    const parts = [...statement, encodePoint(baseMul(key.secret)), encodePoint(alpha), encodePoint(factor), encodePoint(baseMul(nonce)), encodePoint(multiply(alpha, nonce))];
    const challenge = await hashToScalar("decryption", parts);
    factors.push(hex(encodePoint(factor)));
    proofs.push({ challenge: scalarHex(challenge), response: scalarHex(mod(nonce - key.secret * challenge, ORDER)) });
  }
  return { poll_id: tally.poll_id, trustee: key.trustee, factors, proofs };
}
