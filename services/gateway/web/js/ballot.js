// Secret ballots in the browser, exactly as services/governance/crypto makes them: exponential
// ElGamal over the prime-order subgroup of Ed25519, one ciphertext per option with a disjunctive
// Chaum-Pedersen proof that it holds an allowed value, an overall proof for the total, all made
// non-interactive with SHA-512 Fiat-Shamir (compact challenge/response form), and the tracker
// (SHA-256 of the canonical ballot, base64url). The choice never leaves this page unencrypted.

const P = (1n << 255n) - 19n;
export const ORDER = (1n << 252n) + 27742317777372353535851937790883648493n;
const enc = new TextEncoder();

export function mod(a, m = P) {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function pow(base, exp, m = P) {
  let result = 1n;
  base = mod(base, m);
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % m;
    base = (base * base) % m;
    exp >>= 1n;
  }
  return result;
}

const inv = (a) => pow(a, P - 2n);
const D = mod(-121665n * inv(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

// Points in extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z.
export const ZERO_POINT = { X: 0n, Y: 1n, Z: 1n, T: 0n };

export function add(p, q) {
  const a = mod((p.Y - p.X) * (q.Y - q.X));
  const b = mod((p.Y + p.X) * (q.Y + q.X));
  const c = mod(2n * D * p.T * q.T);
  const d = mod(2n * p.Z * q.Z);
  const e = b - a, f = d - c, g = d + c, h = b + a;
  return { X: mod(e * f), Y: mod(g * h), Z: mod(f * g), T: mod(e * h) };
}

function negate(p) {
  return { X: mod(-p.X), Y: p.Y, Z: p.Z, T: mod(-p.T) };
}

export function multiply(p, k) {
  let result = ZERO_POINT;
  let addend = p;
  k = mod(k, ORDER);
  while (k > 0n) {
    if (k & 1n) result = add(result, addend);
    addend = add(addend, addend);
    k >>= 1n;
  }
  return result;
}

export function bytesToBig(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

function bigToBytes(n, length = 32) {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(text) {
  if (!/^[0-9a-f]{64}$/.test(text)) throw new Error("expected 64 lowercase hex digits");
  return Uint8Array.from(text.match(/../g), (b) => parseInt(b, 16));
}

export function encodePoint(p) {
  const zi = inv(p.Z);
  const x = mod(p.X * zi);
  const y = mod(p.Y * zi);
  const out = bigToBytes(y);
  out[31] |= Number(x & 1n) << 7;
  return out;
}

/** A point from its 32-byte encoding: canonical, on the curve, and in the prime-order subgroup. */
export function decodePoint(bytes) {
  const sign = bytes[31] >> 7;
  const yBytes = bytes.slice();
  yBytes[31] &= 0x7f;
  const y = bytesToBig(yBytes);
  if (y >= P) throw new Error("non-canonical point encoding");
  const u = mod(y * y - 1n);
  const v = mod(D * y * y + 1n);
  let x = mod(u * pow(v, 3n) * pow(u * pow(v, 7n), (P - 5n) / 8n));
  if (mod(v * x * x) !== u) {
    if (mod(v * x * x) === mod(-u)) x = mod(x * SQRT_M1);
    else throw new Error("not a point on the curve");
  }
  if (x === 0n && sign) throw new Error("non-canonical point encoding");
  if (Number(x & 1n) !== sign) x = mod(-x);
  const point = { X: x, Y: y, Z: 1n, T: mod(x * y) };
  const check = encodePoint(multiply(point, ORDER - 1n));
  if (hex(check) !== hex(encodePoint(negate(point))) || hex(bytes) === hex(encodePoint(ZERO_POINT))) {
    throw new Error("not a point of the prime-order subgroup");
  }
  return point;
}

const BASE = (() => {
  const y = mod(4n * inv(5n));
  const bytes = bigToBytes(y);
  return decodePoint(bytes);
})();

export const baseMul = (k) => multiply(BASE, k);
export const scalarHex = (k) => hex(bigToBytes(mod(k, ORDER)));

export function randomScalar() {
  return mod(bytesToBig(crypto.getRandomValues(new Uint8Array(64))), ORDER);
}

export function integer(value) {
  const out = new Uint8Array(16);
  let n = BigInt(value);
  if (n < 0n) n += 1n << 128n;
  for (let i = 15; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function prefixed(bytes) {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length, false);
  out.set(bytes, 4);
  return out;
}

/** Fiat-Shamir: SHA-512 over the domain tag and length-prefixed parts, little-endian, mod L. */
export async function hashToScalar(domain, parts) {
  const chunks = [prefixed(enc.encode(`community-os/secret-ballot/v1/${domain}`)), ...parts.map(prefixed)];
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.length;
  }
  return mod(bytesToBig(new Uint8Array(await crypto.subtle.digest("SHA-512", all))), ORDER);
}

function rangeCommitments(publicKey, alpha, beta, value, challenge, response) {
  const first = add(baseMul(response), multiply(alpha, challenge));
  const second = add(multiply(publicKey, response), multiply(add(beta, negate(baseMul(BigInt(value)))), challenge));
  return [first, second];
}

async function proveRange(publicKey, [alpha, beta], randomness, message, allowed, statement) {
  const real = allowed.indexOf(message);
  if (real < 0) throw new Error("the vote is not one of the allowed values");
  const challenges = allowed.map(() => 0n);
  const responses = allowed.map(() => 0n);
  const commitments = [];
  const nonce = randomScalar();
  allowed.forEach((value, index) => {
    if (index === real) {
      commitments.push(baseMul(nonce), multiply(publicKey, nonce));
      return;
    }
    challenges[index] = randomScalar();
    responses[index] = randomScalar();
    commitments.push(...rangeCommitments(publicKey, alpha, beta, value, challenges[index], responses[index]));
  });
  const parts = [...statement, encodePoint(publicKey), encodePoint(alpha), encodePoint(beta), integer(allowed.length),
    ...allowed.map(integer), ...commitments.map(encodePoint)];
  const total = await hashToScalar("range", parts);
  challenges[real] = mod(total - challenges.reduce((a, b) => a + b, 0n), ORDER);
  responses[real] = mod(nonce - randomness * challenges[real], ORDER);
  return allowed.map((_, i) => ({ challenge: scalarHex(challenges[i]), response: scalarHex(responses[i]) }));
}

function totalRange(rules) {
  if (rules.implicit_last) return rules.options === 2 ? null : [0, 1];
  if (rules.max_total === null || rules.max_total === undefined) return null;
  const out = [];
  for (let v = rules.min_total ?? 0; v <= rules.max_total; v++) out.push(v);
  return out;
}

/** The per-option vector a choice adds to the count (governance's PollSpec.vector). */
export function voteVector(spec, options, choice) {
  const n = options.length;
  if (["proposal", "consent", "single", "ranked"].includes(spec.kind)) return options.map((_, i) => (i === choice[0] ? 1 : 0));
  if (spec.kind === "multiple") return options.map((_, i) => (choice.includes(i) ? 1 : 0));
  if (choice.length !== n) throw new Error(`give a value for each of the ${n} options`);
  return choice.map(Number);
}

/** An EncryptedBallot for `votes` under the poll's key, with every proof, and its tracker. */
export async function encryptBallot({ pollId, publicKey, rules }, voter, votes) {
  const key = decodePoint(unhex(publicKey));
  if (votes.length !== rules.options) throw new Error(`expected ${rules.options} votes`);
  const allowed = Array.from({ length: rules.max_per_option + 1 }, (_, i) => i);
  const range = totalRange(rules);
  const sum = votes.reduce((a, b) => a + b, 0);
  if (votes.some((v) => !allowed.includes(v)) || (range && !range.includes(sum))) {
    throw new Error("the vote breaks the poll's rules");
  }
  const encrypted = rules.implicit_last ? votes.slice(0, rules.options - 1) : votes.slice();
  const raw = [];
  const proofs = [];
  let randomnessTotal = 0n;
  for (let option = 0; option < encrypted.length; option++) {
    const r = randomScalar();
    randomnessTotal = mod(randomnessTotal + r, ORDER);
    const ciphertext = [baseMul(r), add(multiply(key, r), baseMul(BigInt(encrypted[option])))];
    raw.push(ciphertext);
    const statement = [enc.encode("choice"), enc.encode(pollId), enc.encode(voter), integer(option)];
    proofs.push(await proveRange(key, ciphertext, r, encrypted[option], allowed, statement));
  }
  let totalProof = null;
  if (range) {
    const total = raw.reduce(([a, b], [c, d]) => [add(a, c), add(b, d)], [ZERO_POINT, ZERO_POINT]);
    const statement = [enc.encode("total"), enc.encode(pollId), enc.encode(voter), ...raw.flatMap(([a, b]) => [encodePoint(a), encodePoint(b)])];
    totalProof = await proveRange(key, total, randomnessTotal, encrypted.reduce((a, b) => a + b, 0), range, statement);
  }
  const ballot = {
    poll_id: pollId,
    voter,
    choices: raw.map(([a, b]) => ({ alpha: hex(encodePoint(a)), beta: hex(encodePoint(b)) })),
    choice_proofs: proofs,
    total_proof: totalProof,
  };
  return { ballot, tracker: await ballotTracker(ballot) };
}

/** SHA-256 of the canonical ballot (fields in declaration order, no spaces), unpadded base64url. */
export async function ballotTracker(ballot) {
  const canonical = JSON.stringify({
    poll_id: ballot.poll_id,
    voter: ballot.voter,
    choices: ballot.choices.map((c) => ({ alpha: c.alpha, beta: c.beta })),
    choice_proofs: ballot.choice_proofs.map((p) => p.map((x) => ({ challenge: x.challenge, response: x.response }))),
    total_proof: ballot.total_proof ? ballot.total_proof.map((x) => ({ challenge: x.challenge, response: x.response })) : null,
  });
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(canonical)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
