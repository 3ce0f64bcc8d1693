// Talking to the gateway: typed errors, sign-in by signing a challenge with the device key,
// and member acts carried as signed statements.

import { signStatement } from "./crypto.js";

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export async function request(method, path, { body, token, raw = false, accept = "application/json" } = {}) {
  const headers = { accept };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, "offline", "the community's server cannot be reached; check your connection");
  }
  if (raw && response.ok) return response;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : { type: `http_${response.status}`, message: text };
    throw new ApiError(response.status, error.type, error.message || response.statusText);
  }
  return data;
}

let openApi = null;

/** Which API paths this gateway serves (modules light up in the app as their routes land). */
export async function features() {
  openApi ??= request("GET", "/openapi.json").then(
    (spec) => new Set(Object.keys(spec.paths || {})),
    () => new Set(),
  );
  return openApi;
}

export async function has(path) {
  return (await features()).has(path);
}

/** One member's session in one community: signs in with her key and signs what she does. */
export class Session {
  constructor(community, keys) {
    this.community = community;
    this.keys = keys;
    this.tokens = JSON.parse(sessionStorage.getItem(this.storageKey) || "null");
  }

  get storageKey() {
    return `cos.tokens.${this.community}.${this.keys.did}`;
  }

  get base() {
    return `/c/${encodeURIComponent(this.community)}`;
  }

  sign(action, body) {
    return signStatement(this.keys, { action, community: this.community, body });
  }

  async signIn() {
    const { challenge } = await request("POST", `${this.base}/auth/challenge`, {
      body: { member: this.keys.did },
    });
    const statement = await this.sign("identity.sign_in", { challenge });
    this.tokens = await request("POST", `${this.base}/auth/sign-in`, { body: { statement } });
    this.tokens.obtained = Date.now();
    sessionStorage.setItem(this.storageKey, JSON.stringify(this.tokens));
    return this.tokens;
  }

  async signOut() {
    if (this.tokens) {
      const { session, refresh_token } = this.tokens;
      await request("POST", `${this.base}/auth/sign-out`, { body: { session, refresh_token } }).catch(
        () => null,
      );
    }
    this.tokens = null;
    sessionStorage.removeItem(this.storageKey);
  }

  /** A request with her access token; an expired or missing token is renewed by signing in.
   * `options` go to request() as they are (`raw`: the response itself, for a body not in JSON). */
  async call(method, path, body, options = {}) {
    if (!this.tokens) await this.signIn();
    try {
      return await request(method, `${this.base}${path}`, { ...options, body, token: this.tokens.access_token });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      await this.signIn();
      return request(method, `${this.base}${path}`, { ...options, body, token: this.tokens.access_token });
    }
  }

  get(path) {
    return this.call("GET", path);
  }

  /** A read whose answer is a file, not JSON (a calendar): its text. Refusals still come as ApiError. */
  async text(path, accept = "text/calendar") {
    const response = await this.call("GET", path, undefined, { raw: true, accept: `${accept}, application/json` });
    return response.text();
  }

  /** A signed act: POST {statement} (plus `extra` fields) to `path`. */
  async act(path, action, body, extra = {}) {
    if (!this.tokens) await this.signIn();
    const statement = await this.sign(action, body);
    return this.call("POST", path, { ...extra, statement });
  }

  /** A membership act (`/acts/<act>`), e.g. admit, assign_roles, update_profile. */
  membership(act, body) {
    return this.act(`/acts/${act}`, `membership.${act}`, body);
  }
}
