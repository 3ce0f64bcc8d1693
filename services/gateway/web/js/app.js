// The member's app: onboarding from an invite link, then home, profile, credentials, directory,
// contacts, invites and the admin screens. Hash routes (#/home, #/join?…) keep invite secrets in
// the fragment, which browsers never send to a server.

import { ApiError, Session, features, request } from "./api.js";
import {
  entropyToPhrase,
  issueCredential,
  keysFromPhrase,
  normalizePhrase,
  randomToken,
  sha256,
  bytesToHex,
  formatDatetime,
  PhraseError,
} from "./crypto.js";
import { MODULES, moduleRoutes, richText } from "./modules.js";
import { publicBlog } from "./social.js";
import * as store from "./store.js";
import { busy, count, day, download, errorBox, field, h, isAdminMember, openScreen, shortDid, toast, when } from "./ui.js";
import { verifyCredential } from "./verify.js";

const app = {
  keys: null, // {did, verificationMethod, publicKey, privateKey}
  community: null, // slug
  profile: null, // the community's public profile
  me: null, // the member's own record
  session: null,
};

const enc = new TextEncoder();
const CONFIRM_WORDS = 3;

// -- routing --------------------------------------------------------------------------------

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query] = raw.split("?");
  return { path: path || "/", params: new URLSearchParams(query || "") };
}

export function go(path) {
  if (location.hash === `#${path}`) route();
  else location.hash = path;
}

const MEMBER_ROUTES = {
  "/home": home,
  "/profile": profile,
  "/credentials": credentials,
  "/directory": directory,
  "/contacts": contacts,
  "/invite": invitePerson,
  "/admin": admin,
  "/device": device,
};

async function route() {
  const { path, params } = parseHash();
  closeMenu();
  const screen = openScreen();
  const ctx = context(screen);
  try {
    if (path === "/join") return await join(params, ctx);
    if (path === "/restore") return await restore(params, ctx);
    if (path === "/read") return await publicBlog(params, ctx);
    if (path === "/" || path === "") return await landing(params, ctx);
    const handler = MEMBER_ROUTES[path] || moduleRoutes[path];
    if (!handler) {
      for (const link of document.querySelectorAll("#nav [aria-current]")) link.removeAttribute("aria-current");
      return ctx.render(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/home" }, "Go home")));
    }
    await followCommunity(params);
    if (!(await ensureMember(ctx))) return;
    if (!screen.current) return; // a later navigation took over while this one signed in
    ctx.session = app.session; // made by ensureMember on a first visit
    if ((moduleRoutes[path] || ["/directory", "/invite"].includes(path)) && !inGoodStanding()) {
      return ctx.render(h("h1", {}, "Not yet"), standingNotice());
    }
    await handler(params, ctx);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      // A link to something that is not there (a poll, a thread, a conversation): an answer, not a fault.
      return ctx.render(h("h1", {}, "Not found"), errorBox(error), h("p", {}, h("a", { href: "#/home" }, "Home")));
    }
    console.error(error);
    ctx.render(h("h1", {}, "Something went wrong"), errorBox(error), h("p", {}, h("a", { href: "#/home" }, "Home")));
  }
}

/** What a screen's handler works with: `render` paints only while its navigation is the newest,
 * and `signal` aborts when a later one begins (live streams listen to it). */
function context(screen) {
  return {
    app,
    session: app.session,
    go,
    refreshMe,
    x25519,
    richText,
    render: screen.render,
    signal: screen.signal,
    isCurrent: () => screen.current,
  };
}

/** Her X25519 key pair for encrypted chat (the private half never leaves this browser). */
async function x25519() {
  if (!app.keys.x25519PrivateKey) {
    throw new Error("this device's key predates encrypted chat: restore it with your recovery phrase");
  }
  const { ed25519ToX25519Public } = await import("./sealed.js");
  return { privateKey: app.keys.x25519PrivateKey, publicKey: ed25519ToX25519Public(app.keys.publicKey) };
}

// -- identity and membership ----------------------------------------------------------------

async function loadKeys() {
  if (app.keys) return app.keys;
  const saved = await store.identity();
  if (saved) {
    app.keys = {
      did: saved.did,
      verificationMethod: saved.verificationMethod,
      publicKey: saved.publicKey,
      privateKey: saved.privateKey,
      x25519PrivateKey: saved.x25519PrivateKey ?? null,
    };
  }
  return app.keys;
}

async function refreshMe() {
  app.me = await app.session.get(`/members/${encodeURIComponent(app.keys.did)}`);
  return app.me;
}

/** A link from a mail names its community (`?c=`): open it there when this device has joined it. */
async function followCommunity(params) {
  const slug = params.get("c");
  if (!slug || slug === store.currentCommunity()) return;
  const known = (await store.communities()).find((c) => c.slug === slug);
  if (known) await store.rememberCommunity(known.slug, known.name);
}

async function ensureMember(ctx) {
  await loadKeys();
  const slug = store.currentCommunity();
  if (!app.keys || !slug) {
    go("/");
    return false;
  }
  if (store.signedOut(slug)) {
    document.getElementById("nav").hidden = true;
    document.getElementById("menu-button").hidden = true;
    const signIn = h("button", { type: "button" }, "Sign in");
    const out = h("div", { "aria-live": "polite" });
    signIn.addEventListener("click", () => busy(signIn, async () => {
      store.setSignedOut(slug, false);
      app.session = null;
      app.me = null;
      route();
    }, out));
    ctx.render(
      h("h1", {}, "Signed out"),
      h("p", {}, "Your key is still on this device. Sign in again with it, or remove it from this device."),
      h("div", { class: "actions" }, signIn, h("a", { class: "button secondary", href: "#/restore" }, "Use a recovery phrase")),
      out,
    );
    return false;
  }
  if (app.community !== slug || !app.session) {
    app.community = slug;
    app.session = new Session(slug, app.keys);
    app.profile = await request("GET", `/c/${encodeURIComponent(slug)}`);
    app.me = null;
  }
  if (!app.me || !inGoodStanding()) {
    // Someone waiting for admission (or suspended) is asked again on every screen, so she is let in
    // as soon as an admin admits her, without reloading.
    try {
      await refreshMe();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        ctx.render(
          h("h1", {}, "Not a member yet"),
          h("p", {}, `This device's key is not a member of ${app.profile.name}.`),
          h("p", {}, h("a", { href: "#/restore" }, "Use your recovery phrase"), " or open the invite link you were sent."),
        );
        return false;
      }
      throw error;
    }
  }
  await buildNav();
  return true;
}

function inGoodStanding() {
  return Boolean(app.me && ["active", "in_grace"].includes(app.me.standing));
}

/** Why a member who is not in good standing sees only her own pages, and what happens next. */
function standingNotice() {
  const name = app.profile ? app.profile.name : "this community";
  const text = {
    applied: `Your application to ${name} is waiting for an admin to approve it. Announcements, forums, chat, polls and the rest open once you are admitted.`,
    suspended: `Your membership of ${name} is suspended, so its announcements, discussions and decisions are closed to you. An admin can reinstate you.`,
    expired: `Your membership of ${name} has expired. Renew it with an admin to take part again.`,
    rejected: `Your application to ${name} was not accepted.`,
  }[app.me && app.me.standing] || `You are not a member of ${name} in good standing at the moment.`;
  return h("section", { class: "card notice", role: "status", "data-testid": "standing-notice" }, h("p", {}, text),
    h("p", {}, h("a", { href: "#/profile" }, "Your profile"), " · ", h("a", { href: "#/device" }, "This device")));
}

function isAdmin() {
  return isAdminMember(app.me);
}

async function buildNav() {
  document.getElementById("community-name").textContent = app.profile.name;
  const paths = await features();
  const links = [["#/home", "Home"]];
  for (const module of MODULES) {
    if (inGoodStanding() && module.available(paths, app.community)) links.push([`#${module.route}`, module.title]);
  }
  if (inGoodStanding()) links.push(["#/directory", "Directory"]);
  links.push(["#/profile", "Profile"], ["#/credentials", "Credentials"], ["#/contacts", "Contacts"]);
  if (inGoodStanding()) links.push(["#/invite", "Invite"]);
  if (isAdmin()) links.push(["#/admin", "Admin"]);
  links.push(["#/device", "This device"]);
  const nav = document.getElementById("nav");
  const current = `#${parseHash().path}`;
  nav.replaceChildren(
    h("ul", {}, links.map(([href, label]) =>
      h("li", {}, h("a", { href, "aria-current": href === current ? "page" : undefined }, label)),
    )),
  );
  nav.hidden = false;
  document.getElementById("menu-button").hidden = false;
}

function closeMenu() {
  document.body.classList.remove("menu-open");
  document.getElementById("menu-button").setAttribute("aria-expanded", "false");
}

// -- landing and restore --------------------------------------------------------------------

async function landing(_params, ctx) {
  await loadKeys();
  if (app.keys && store.currentCommunity()) return go("/home");
  document.getElementById("nav").hidden = true;
  ctx.render(
    h("h1", {}, "Welcome"),
    h("p", { class: "lead" }, "Community OS is your community's own place: members, announcements, discussions, decisions and knowledge."),
    h("div", { class: "card" },
      h("h2", {}, "Joining?"),
      h("p", {}, "Open the invite link a member sent you. Your key is made on this device; nobody else ever holds it."),
    ),
    h("div", { class: "card" },
      h("h2", {}, "Already a member?"),
      h("p", {}, "Bring your key to this device with your 24-word recovery phrase."),
      h("a", { class: "button", href: "#/restore" }, "Restore with my phrase"),
    ),
  );
}

async function restore(params, ctx) {
  document.getElementById("nav").hidden = true;
  const known = await store.communities();
  const out = h("div");
  const phrase = field("Recovery phrase (24 words)", { name: "phrase", autocomplete: "off", autocapitalize: "none", spellcheck: "false", rows: 4, required: true }, { as: "textarea" });
  const community = field("Community", { name: "community", value: params.get("c") || store.currentCommunity() || (known[0] && known[0].slug) || "", required: true, autocapitalize: "none" }, { hint: "its short name, as in the address: /c/<name>" });
  const button = h("button", { type: "submit" }, "Restore");
  const form = h("form", { class: "card", novalidate: true }, phrase, community, button, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, async () => {
      const slug = form.community.value.trim();
      if (!slug) throw new ApiError(0, "community_required", "Type your community's short name, as in its address: /c/<name>.");
      let keys;
      try {
        keys = await keysFromPhrase(form.phrase.value);
      } catch (error) {
        if (error instanceof PhraseError) throw new ApiError(0, error.code, error.message);
        throw error;
      }
      const profileDoc = await request("GET", `/c/${encodeURIComponent(slug)}`);
      const session = new Session(slug, keys);
      await session.signIn();
      try {
        await session.get(`/members/${encodeURIComponent(keys.did)}`);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        throw new ApiError(404, "unknown_member", `The key these words make is not a member of ${profileDoc.name}. Check each word and the community's name, or open the invite link you were sent.`);
      }
      await store.saveIdentity(keys);
      await store.rememberCommunity(slug, profileDoc.name);
      store.setSignedOut(slug, false);
      Object.assign(app, { keys, community: slug, session, profile: profileDoc, me: null });
      form.phrase.value = "";
      toast("Your key is on this device again.");
      go("/home");
    }, out);
  });
  ctx.render(h("h1", {}, "Restore your key"), h("p", {}, "Type the 24 words in order. They never leave this device: your key is derived here."), form);
}

// -- onboarding: invite -> key -> phrase -> confirm -> join ----------------------------------

async function join(params, ctx) {
  document.getElementById("nav").hidden = true;
  const slug = params.get("c");
  if (!slug) return ctx.render(h("h1", {}, "This invite link is incomplete"), h("p", {}, "Ask the person who invited you to send it again."));
  const invite = {
    community: slug,
    id: params.get("i"),
    token: params.get("t"),
    email: params.get("e"),
    externalId: params.get("x"),
    code: params.get("k"),
  };
  let profileDoc;
  let details = null;
  try {
    profileDoc = await request("GET", `/c/${encodeURIComponent(slug)}`);
    if (invite.id) details = await request("GET", `/c/${encodeURIComponent(slug)}/invites/${encodeURIComponent(invite.id)}`);
  } catch (error) {
    return ctx.render(h("h1", {}, "This invite cannot be opened"), errorBox(error));
  }
  if (details && details.status !== "pending") {
    return ctx.render(
      h("h1", {}, "This invite cannot be used"),
      errorBox({ type: `invite_${details.status}`, message: `the invite is ${details.status}` }),
      h("p", {}, "Ask for a new invite, or ", h("a", { href: "#/restore" }, "restore your key"), " if you are already a member."),
    );
  }
  await loadKeys();
  if (app.keys && details && details.inviter === app.keys.did) {
    return ctx.render(
      h("h1", {}, "This is your own invite"),
      h("p", {}, `You made this link for ${details.recipient_name || "someone"}. Send it to them privately: it works once, for them.`),
      h("p", {}, h("a", { href: "#/home" }, "Back to your community")),
    );
  }
  if (app.keys) {
    // This device's key may already be a member here: then the invite is someone else's, and
    // accepting it with this key would use it up for nothing.
    const standing = await memberStanding(slug, app.keys);
    if (["active", "in_grace", "applied", "suspended"].includes(standing)) {
      return ctx.render(
        h("h1", {}, `You are already a member of ${profileDoc.name}`),
        h("p", {}, "This device's key is a member of this community, so this invite must be meant for someone else",
          details && details.recipient_name ? ` (${details.recipient_name})` : "", ". It stays unused, so they can still join with it."),
        h("p", {}, "To join as another person, open the link in another browser or on their own device."),
        h("p", {}, h("a", { class: "button", href: "#/home" }, `Go to ${profileDoc.name}`)),
      );
    }
  }
  const name = field("Your name", { name: "name", value: (details && details.recipient_name) || "", autocomplete: "name", required: true, maxlength: 200 }, { hint: "How other members will see you." });
  const out = h("div");
  const start = h("button", { type: "submit" }, app.keys ? "Join with this device's key" : "Create my key");
  const form = h("form", { class: "card" }, name, start, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = form.name.value.trim();
    if (!chosen) {
      out.replaceChildren(errorBox({ type: "name_required", message: "Please tell us your name." }));
      form.name.focus();
      return;
    }
    if (app.keys) busy(start, () => joinCommunity(ctx, invite, profileDoc, chosen, app.keys), out);
    else busy(start, () => showPhrase(ctx, invite, profileDoc, chosen), out);
  });
  ctx.render(
    h("h1", {}, `Join ${profileDoc.name}`),
    details ? h("p", { class: "lead" }, `You are invited by `, details.inviter_name
      ? h("strong", { title: details.inviter }, details.inviter_name)
      : h("span", { class: "did", title: details.inviter }, shortDid(details.inviter)), `.`) : null,
    h("ol", { class: "steps", "aria-label": "What happens next" },
      h("li", {}, "Your key is made on this device."),
      h("li", {}, "You write down your 24-word recovery phrase."),
      h("li", {}, "You join, and land in your community."),
    ),
    form,
  );
}

/** Her standing in a community (null if this key is not a member there), asked with her key. */
async function memberStanding(slug, keys) {
  try {
    // The open session of that community if there is one; otherwise `get` signs in (once).
    const session = app.session && app.community === slug ? app.session : new Session(slug, keys);
    const record = await session.get(`/members/${encodeURIComponent(keys.did)}`);
    return record.standing || record.status || null;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

async function showPhrase(ctx, invite, profileDoc, name) {
  const entropy = crypto.getRandomValues(new Uint8Array(32));
  const phrase = await entropyToPhrase(entropy);
  entropy.fill(0);
  const keys = await keysFromPhrase(phrase);
  const words = phrase.split(" ");
  const saved = h("input", { type: "checkbox", id: "phrase-saved", name: "saved" });
  const next = h("button", { type: "button", disabled: true }, "Continue");
  saved.addEventListener("change", () => (next.disabled = !saved.checked));
  next.addEventListener("click", () => confirmPhrase(ctx, invite, profileDoc, name, keys, words));
  ctx.render(
    h("h1", {}, "Your recovery phrase"),
    h("p", {}, "These 24 words are your key. Write them down, in order, and keep them somewhere safe. Anyone with them can act as you; without them, a lost phone means a lost key."),
    h("ol", { class: "phrase", "aria-label": "Recovery phrase", "data-testid": "phrase" }, words.map((word) => h("li", {}, word))),
    h("div", { class: "check" }, saved, h("label", { for: "phrase-saved" }, "I have written down all 24 words")),
    next,
  );
}

function confirmPhrase(ctx, invite, profileDoc, name, keys, words) {
  const positions = [];
  while (positions.length < CONFIRM_WORDS) {
    const pick = crypto.getRandomValues(new Uint32Array(1))[0] % words.length;
    if (!positions.includes(pick)) positions.push(pick);
  }
  positions.sort((a, b) => a - b);
  const out = h("div");
  const inputs = positions.map((p) => field(`Word ${p + 1}`, { name: `w${p}`, autocomplete: "off", autocapitalize: "none", spellcheck: "false", required: true, dataset: { position: String(p) } }));
  const button = h("button", { type: "submit" }, "Confirm and join");
  const back = h("button", { type: "button", class: "secondary" }, "Show the phrase again");
  const form = h("form", { class: "card" }, inputs, button, out);
  back.addEventListener("click", () => {
    ctx.render(
      h("h1", {}, "Your recovery phrase"),
      h("ol", { class: "phrase", "aria-label": "Recovery phrase", "data-testid": "phrase" }, words.map((word) => h("li", {}, word))),
      h("button", { type: "button", onclick: () => confirmPhrase(ctx, invite, profileDoc, name, keys, words) }, "I have it written down"),
    );
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wrong = positions.filter((p) => normalizePhrase(form[`w${p}`].value) !== words[p]);
    if (wrong.length) {
      const numbers = wrong.map((p) => p + 1);
      const which = numbers.length === 1 ? `Word ${numbers[0]} does not` : `Words ${numbers.slice(0, -1).join(", ")} and ${numbers.at(-1)} do not`;
      out.replaceChildren(errorBox({ type: "phrase_mismatch", message: `${which} match what you wrote down. Check them, or show the phrase again.` }));
      form[`w${wrong[0]}`].focus();
      return;
    }
    busy(button, async () => {
      await store.saveIdentity(keys);
      app.keys = keys;
      await joinCommunity(ctx, invite, profileDoc, name, keys);
    }, out);
  });
  ctx.render(h("h1", {}, "Check your phrase"), h("p", {}, "Type these words from your phrase, to be sure it is written down correctly."), form, back);
}

/** Accept the invite, join, sign in; on a refusal the page says why and offers to try again
 * (each step is safe to repeat: an invite this key already accepted, a membership it holds). */
async function joinCommunity(ctx, invite, profileDoc, name, keys) {
  const progress = h("ol", { class: "progress", "aria-live": "polite" });
  ctx.render(h("h1", {}, `Joining ${profileDoc.name}`), progress);
  try {
    await joinSteps(invite, profileDoc, name, keys, progress);
  } catch (error) {
    console.error(error);
    const retry = h("button", { type: "button" }, "Try again");
    retry.addEventListener("click", () => joinCommunity(ctx, invite, profileDoc, name, keys));
    progress.after(errorBox(error), retry);
    retry.focus();
  }
}

async function joinSteps(invite, profileDoc, name, keys, progress) {
  const slug = invite.community;
  const session = new Session(slug, keys);
  const step = (text) => {
    const item = h("li", {}, text);
    progress.append(item);
    return item;
  };
  if (invite.id && invite.token) {
    const item = step("Accepting the invite…");
    const statement = await session.sign("identity.accept_invite", { invite: invite.id, token: invite.token });
    try {
      await request("POST", `${session.base}/invites/${encodeURIComponent(invite.id)}/accept`, { body: { statement } });
    } catch (error) {
      if (!(error instanceof ApiError && error.type === "invite_used")) throw error;
      const used = await request("GET", `${session.base}/invites/${encodeURIComponent(invite.id)}`);
      if (used.invitee !== keys.did) throw error; // used by someone else, not by an earlier try of ours
    }
    item.textContent = "Invite accepted";
  }
  const item = step("Joining…");
  const body = { name };
  if (invite.code) {
    body.invitation = { code: invite.code };
    if (invite.email) body.invitation.email = invite.email;
    if (invite.externalId) body.invitation.external_id = invite.externalId;
  }
  let record;
  try {
    record = await request("POST", `${session.base}/apply`, { body: { statement: await session.sign("membership.apply", body) } });
  } catch (error) {
    if (!(error instanceof ApiError && error.type === "duplicate_member")) throw error;
    record = null; // already joined on an earlier try
  }
  item.textContent = record && record.standing === "applied" ? "Application sent" : "Joined";
  step("Signing in…");
  await session.signIn();
  await store.rememberCommunity(slug, profileDoc.name);
  store.setSignedOut(slug, false);
  Object.assign(app, { community: slug, session, profile: profileDoc, me: null });
  history.replaceState(null, "", "#/home"); // the invite's secrets leave the address bar
  toast(`Welcome to ${profileDoc.name}!`);
  const chat = MODULES.find((m) => m.id === "chat");
  const inviter = invite.id ? (await request("GET", `${session.base}/invites/${encodeURIComponent(invite.id)}`).catch(() => null))?.inviter : null;
  const admitted = !record || record.standing !== "applied";
  if (admitted && chat && inviter && chat.available(await features(), slug)) return go(`${chat.route}?with=${encodeURIComponent(inviter)}`);
  return go("/home");
}

// -- member screens -------------------------------------------------------------------------

async function home(_params, ctx) {
  const me = app.me;
  const paths = await features();
  const cards = [];
  cards.push(
    h("section", { class: "card", "aria-labelledby": "membership-h" },
      h("h2", { id: "membership-h" }, "Your membership"),
      h("dl", { class: "facts" },
        h("dt", {}, "Standing"), h("dd", { dataset: { testid: "standing" } }, label(me.standing)),
        h("dt", {}, "Roles"), h("dd", {}, me.roles.join(", ") || "member"),
        h("dt", {}, "Type"), h("dd", {}, me.membership_type || "—"),
        h("dt", {}, "Renews"), h("dd", {}, me.expires_at ? day(me.expires_at) : "—"),
      ),
      h("p", {}, h("a", { href: "#/credentials" }, "Your membership credential")),
    ),
  );
  if (!inGoodStanding()) cards.unshift(standingNotice());
  for (const module of MODULES) {
    if (inGoodStanding() && module.available(paths, app.community)) cards.push(await module.summary(ctx));
  }
  const waiting = MODULES.filter((m) => !m.available(paths, app.community));
  if (waiting.length && inGoodStanding()) {
    cards.push(h("section", { class: "card muted" }, h("h2", {}, "Coming to this community"), h("p", {}, waiting.map((m) => m.title).join(", "), " will appear here when they are switched on.")));
  }
  if (isAdmin()) {
    const pending = await app.session.get("/directory?status=applied").catch(() => ({ members: [] }));
    cards.push(h("section", { class: "card" }, h("h2", {}, "Admin"),
      h("p", {}, pending.members.length ? `${count(pending.members.length, "application")} waiting.` : "No applications waiting."),
      h("a", { class: "button secondary", href: "#/admin" }, "Manage members")));
  }
  ctx.render(h("h1", {}, `Hello, ${me.name || "member"}`), h("div", { class: "grid" }, cards));
}

function label(standing) {
  return { active: "Active", in_grace: "In grace period", applied: "Application pending", suspended: "Suspended", expired: "Expired" }[standing] || standing;
}

async function profile(_params, ctx) {
  const me = app.me;
  const out = h("div");
  const fields = app.profile.policy.profile_fields || [];
  const name = field("Name", { name: "name", value: me.name, required: true, maxlength: 200, autocomplete: "name" });
  const extra = fields.map((f) => field(f.label || f.name, { name: `p_${f.name}`, required: f.required }));
  const save = h("button", { type: "submit" }, "Save");
  const form = h("form", { class: "card" }, h("h2", {}, "Edit"), name, extra, save, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, async () => {
      const body = { name: form.name.value.trim() };
      if (!body.name) throw new ApiError(0, "name_required", "Your name cannot be empty.");
      const profileValues = Object.fromEntries(fields.map((f) => [f.name, form[`p_${f.name}`].value.trim()]).filter(([, v]) => v));
      if (fields.length) body.profile = profileValues;
      await app.session.membership("update_profile", body);
      await refreshMe();
      app.nameCache = null; // her new name, everywhere it is shown
      toast("Profile saved.");
      profile(null, ctx);
    }, out);
  });
  ctx.render(
    h("h1", {}, "Your profile"),
    h("section", { class: "card" },
      h("dl", { class: "facts" },
        h("dt", {}, "Name"), h("dd", {}, me.name),
        h("dt", {}, "Your DID"), h("dd", { class: "did" }, me.did),
        h("dt", {}, "Status"), h("dd", {}, `${me.status} (${label(me.standing)})`),
        h("dt", {}, "Roles"), h("dd", {}, me.roles.join(", ")),
        h("dt", {}, "Membership"), h("dd", {}, `${me.membership_type}${me.expires_at ? `, until ${when(me.expires_at)}` : ""}`),
      ),
    ),
    form,
  );
}

function checksList(result) {
  return h("div", { class: result.valid ? "verdict ok" : "verdict bad", role: "status", "data-testid": "verdict" },
    h("strong", {}, result.valid ? "Valid credential" : "Not valid"),
    h("ul", { class: "checks" }, result.checks.map((c) => h("li", { class: c.ok ? "ok" : "bad" }, h("span", { "aria-hidden": "true" }, c.ok ? "✓ " : "✗ "), h("span", { class: "sr-only" }, c.ok ? "passed: " : "failed: "), c.name, c.detail ? h("small", {}, ` — ${c.detail}`) : null))),
  );
}

async function credentials(_params, ctx) {
  const me = app.me;
  const credential = me.credential;
  const results = h("div", { "aria-live": "polite" });
  const parts = [h("h1", {}, "Your credentials")];
  if (!credential) {
    parts.push(h("p", { class: "card" }, "You have no membership credential yet: it is issued when you are admitted."));
  } else {
    const verify = h("button", { type: "button" }, "Verify");
    verify.addEventListener("click", () => busy(verify, async () => results.replaceChildren(checksList(await verifyCredential(credential, { subject: me.did }))), results));
    parts.push(
      h("section", { class: "card" },
        h("h2", {}, credential.type.filter((t) => t !== "VerifiableCredential" && t !== "DTGCredential").join(", ")),
        h("dl", { class: "facts" },
          h("dt", {}, "Issued by"), h("dd", { class: "did" }, credential.issuer),
          h("dt", {}, "To"), h("dd", { class: "did" }, credential.credentialSubject.id),
          h("dt", {}, "Valid"), h("dd", {}, `${when(credential.validFrom)} – ${when(credential.validUntil)}`),
        ),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "secondary", onclick: () => download(`membership-${app.community}.json`, JSON.stringify(credential, null, 2), "application/vc+json") }, "Download"),
          verify,
        ),
        results,
      ),
    );
  }
  const fileOut = h("div", { "aria-live": "polite" });
  const file = field("Check a credential file", { type: "file", accept: ".json,application/json,application/vc+json", name: "file" });
  file.querySelector("input").addEventListener("change", async (event) => {
    const chosen = event.target.files[0];
    if (!chosen) return;
    try {
      const parsed = JSON.parse(await chosen.text());
      fileOut.replaceChildren(checksList(await verifyCredential(parsed)));
    } catch (error) {
      const message = error instanceof SyntaxError ? "the file is not JSON, so it cannot be a credential" : error.message;
      fileOut.replaceChildren(errorBox({ type: "unreadable_credential", message }));
    }
  });
  parts.push(h("section", { class: "card" }, h("h2", {}, "Verify any credential"), file, fileOut));
  ctx.render(parts);
}

function memberRow(entry, actions = null) {
  return h("li", { class: "member", dataset: { did: entry.did || "" } },
    h("div", {}, h("strong", {}, entry.name || "(no name)"), " ", h("span", { class: "badge" }, label(entry.standing || entry.status)),
      entry.roles && entry.roles.filter((r) => r !== "member").map((r) => h("span", { class: "badge role" }, r)),
      h("div", { class: "did" }, shortDid(entry.did))),
    actions,
  );
}

async function directory(params, ctx) {
  const out = h("div", { "aria-live": "polite" });
  const text = field("Search", { type: "search", name: "text", value: params.get("text") || "", autocomplete: "off" });
  const roles = app.profile.policy.roles || [];
  const role = field("Role", { name: "role" }, { as: "select", options: [["", "Any role"], ...roles.map((r) => [r, r])] });
  const button = h("button", { type: "submit" }, "Search");
  const form = h("form", { class: "card row", role: "search" }, text, role, button);
  const load = () => busy(button, async () => {
    const q = new URLSearchParams({ status: "active" });
    if (form.text.value.trim()) q.set("text", form.text.value.trim());
    if (form.role.value) q.set("role", form.role.value);
    const found = await app.session.get(`/directory?${q}`);
    out.replaceChildren(
      h("p", {}, count(found.members.length, "member")),
      h("ul", { class: "list" }, found.members.map((entry) => memberRow(entry))),
    );
  }, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  ctx.render(h("h1", {}, "Directory"), form, out);
  await load();
}

async function contacts(_params, ctx) {
  const found = await app.session.get("/me/contacts");
  ctx.render(
    h("h1", {}, "Your contacts"),
    found.contacts.length
      ? h("ul", { class: "list" }, found.contacts.map((c) => h("li", { class: "member" }, h("strong", {}, c.name || shortDid(c.did) || "invited"), " ", h("span", { class: "badge" }, c.status), h("div", { class: "did" }, c.did || ""))))
      : h("p", { class: "card" }, "No contacts yet. ", h("a", { href: "#/invite" }, "Invite someone"), "."),
  );
}

/** An invite link: an identity invite (connects you) plus, from an admin, a membership invitation. */
async function invitePerson(_params, ctx) {
  const out = h("div", { "aria-live": "polite" });
  const name = field("Their name", { name: "name", required: true, maxlength: 200 });
  const email = field("Their email", { name: "email", type: "email", autocomplete: "off" }, { hint: isAdmin() ? "The invitation is tied to it, and they join at once. Without an email they apply, and an admin approves them." : "Optional." });
  const button = h("button", { type: "submit" }, "Create invite link");
  const form = h("form", { class: "card" }, name, email, button, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(button, async () => {
      const link = await createInvite(form.name.value.trim(), form.email.value.trim());
      const box = h("input", { type: "text", readonly: true, value: link, "aria-label": "Invite link", "data-testid": "invite-link" });
      out.replaceChildren(h("div", { class: "card" }, h("p", {}, "Send this link to them privately. It works once."), box,
        h("button", { type: "button", class: "secondary", onclick: () => navigator.clipboard.writeText(link).then(() => toast("Copied.")) }, "Copy")));
      box.select();
    }, out);
  });
  ctx.render(h("h1", {}, "Invite someone"), form);
}

async function createInvite(name, email) {
  if (!name) throw new ApiError(0, "name_required", "Their name is required.");
  const params = new URLSearchParams({ c: app.community });
  if (isAdmin() && email) {
    const invited = await app.session.membership("invite", { name, email });
    params.set("e", email.toLowerCase());
    params.set("k", invited.code);
  }
  const now = new Date();
  const expires = new Date(now.getTime() + 14 * 24 * 3600 * 1000);
  const ident = randomToken(9);
  const token = randomToken(24);
  const credential = await issueCredential(app.keys, {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    type: ["VerifiableCredential", "InvitationCredential"],
    validFrom: formatDatetime(new Date(now.getTime() - 60000)),
    validUntil: formatDatetime(expires),
    credentialSubject: { name, community: app.community },
  }, now);
  const body = {
    invite: ident,
    recipient_name: name,
    expires_at: formatDatetime(expires),
    token_hash: bytesToHex(await sha256(enc.encode(token))),
    credential,
  };
  await app.session.act("/invites", "identity.create_invite", body);
  params.set("i", ident);
  params.set("t", token);
  return `${location.origin}/app/#/join?${params}`;
}

// -- admin ----------------------------------------------------------------------------------

async function admin(params, ctx) {
  if (!isAdmin()) return ctx.render(h("h1", {}, "Admin"), errorBox({ type: "not_an_admin", message: "" }));
  const tab = params.get("tab") || "applicants";
  const tabs = [["applicants", "Applications"], ["members", "Members & roles"], ["import", "Import"]];
  const body = h("div");
  ctx.render(
    h("h1", {}, "Admin"),
    h("nav", { class: "tabs", "aria-label": "Admin sections" }, tabs.map(([id, text]) => h("a", { href: `#/admin?tab=${id}`, "aria-current": id === tab ? "page" : undefined }, text))),
    body,
  );
  if (tab === "members") return adminMembers(body);
  if (tab === "import") return adminImport(body);
  return adminApplicants(body);
}

async function adminApplicants(body) {
  const out = h("div", { "aria-live": "polite" });
  const found = await app.session.get("/directory?status=applied");
  const act = (entry, what, button) => busy(button, async () => {
    await app.session.membership(what, { member: entry.did });
    toast(`${entry.name}: ${what === "admit" ? "admitted" : "rejected"}.`);
    adminApplicants(body);
  }, out);
  body.replaceChildren(
    out,
    found.members.length
      ? h("ul", { class: "list" }, found.members.map((entry) => {
          const yes = h("button", { type: "button" }, "Admit");
          const no = h("button", { type: "button", class: "secondary" }, "Reject");
          yes.addEventListener("click", () => act(entry, "admit", yes));
          no.addEventListener("click", () => act(entry, "reject", no));
          return memberRow(entry, h("div", { class: "actions" }, yes, no));
        }))
      : h("p", { class: "card" }, "No applications waiting."),
  );
}

async function adminMembers(body) {
  const out = h("div", { "aria-live": "polite" });
  const found = await app.session.get("/directory");
  const roles = app.profile.policy.roles || ["admin", "moderator", "member"];
  const rows = found.members.filter((e) => e.did).map((entry) => {
    const boxes = roles.map((role) => {
      const id = `r-${entry.member}-${role}`;
      return h("span", { class: "check" }, h("input", { type: "checkbox", id, name: role, checked: entry.roles.includes(role) }), h("label", { for: id }, role));
    });
    const save = h("button", { type: "submit", class: "secondary" }, "Save roles");
    const form = h("form", { class: "roles", "aria-label": `Roles of ${entry.name}` }, h("fieldset", {}, h("legend", {}, "Roles"), boxes), save);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const chosen = roles.filter((role) => form[role].checked);
      busy(save, async () => {
        await app.session.membership("assign_roles", { member: entry.did, roles: chosen });
        toast(`${entry.name}: roles saved.`);
        if (entry.did === app.keys.did) await refreshMe();
        await adminMembers(body);
      }, out);
    });
    const toggle = h("button", { type: "button", class: "secondary" }, entry.status === "suspended" ? "Reinstate" : "Suspend");
    toggle.addEventListener("click", () => busy(toggle, async () => {
      const reinstate = entry.status === "suspended";
      await app.session.membership(reinstate ? "reinstate" : "suspend", { member: entry.did });
      toast(`${entry.name}: ${reinstate ? "reinstated" : "suspended"}.`);
      await adminMembers(body);
    }, out));
    return memberRow(entry, h("div", { class: "actions" }, form, entry.did !== app.keys.did && ["active", "suspended"].includes(entry.status) ? toggle : null));
  });
  body.replaceChildren(out, h("ul", { class: "list" }, rows));
}

async function adminImport(body) {
  const out = h("div", { "aria-live": "polite" });
  const sheet = field("Member sheet (CSV)", { name: "csv", rows: 8, spellcheck: "false", placeholder: "name,email\nAda Lovelace,ada@example.org" }, { as: "textarea", hint: "Columns: name and email or external_id; optional type, roles, tags and profile fields." });
  const file = field("…or choose a file", { type: "file", name: "file", accept: ".csv,text/csv" });
  const check = h("button", { type: "submit" }, "Check");
  const form = h("form", { class: "card" }, sheet, file, check, out);
  file.querySelector("input").addEventListener("change", async (event) => {
    const chosen = event.target.files[0];
    if (chosen) form.csv.value = await chosen.text();
  });
  const run = async (dryRun, importValid = false) => {
    const csv = form.csv.value;
    const digest = bytesToHex(await sha256(enc.encode(csv)));
    return app.session.act("/import", "membership.import_members", { csv_sha256: digest, dry_run: dryRun, import_valid: importValid }, { csv });
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(check, async () => {
      const report = await run(true);
      const apply = h("button", { type: "button" }, report.invalid ? `Import the ${count(report.valid, "valid row")}` : `Import ${count(report.valid, "member")}`);
      apply.disabled = report.valid === 0;
      apply.addEventListener("click", () => busy(apply, async () => {
        const done = await run(false, report.invalid > 0);
        out.replaceChildren(importReport(done), h("p", {}, `${count(done.imported, "member")} invited. Send each their link:`),
          h("ul", { class: "list" }, done.rows.filter((r) => r.code).map((r) => {
            const q = new URLSearchParams({ c: app.community, k: r.code });
            if (r.key.startsWith("email:")) q.set("e", r.key.slice(6));
            else q.set("x", r.key.replace(/^external:/, ""));
            return h("li", {}, h("strong", {}, r.name), h("input", { type: "text", readonly: true, value: `${location.origin}/app/#/join?${q}`, "aria-label": `Invite link for ${r.name}` }));
          })));
      }, out));
      out.replaceChildren(importReport(report), apply);
    }, out);
  });
  body.replaceChildren(form);
}

function importReport(report) {
  return h("div", { class: "report" },
    h("p", {}, `${report.valid} valid, ${report.invalid} with problems, ${report.already_members} already members.`),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Row"), h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Problems"))),
      h("tbody", {}, report.rows.map((r) => h("tr", { class: r.status }, h("td", {}, r.row), h("td", {}, r.name), h("td", {}, r.status), h("td", {}, (r.reasons || []).join("; ")))))),
  );
}

async function device(_params, ctx) {
  const list = await store.communities();
  const out = h("div");
  const signOut = h("button", { type: "button", class: "secondary" }, "Sign out");
  signOut.addEventListener("click", () => busy(signOut, async () => {
    await app.session.signOut();
    store.setSignedOut(app.community, true);
    Object.assign(app, { session: null, me: null });
    toast("Signed out. Your key stays on this device.");
    go("/home");
  }, out));
  const forget = h("button", { type: "button", class: "danger" }, "Remove my key from this device");
  forget.addEventListener("click", () => busy(forget, async () => {
    if (!confirm("Remove your key from this device? You will need your recovery phrase to come back.")) return;
    await app.session.signOut();
    await store.forgetEverything();
    Object.assign(app, { keys: null, community: null, session: null, me: null, profile: null });
    go("/");
  }, out));
  ctx.render(
    h("h1", {}, "This device"),
    h("section", { class: "card" }, h("h2", {}, "Your key"), h("p", { class: "did" }, app.keys.did),
      h("p", {}, "Kept in this browser and never sent anywhere; it cannot be copied out. Your recovery phrase brings it back.")),
    list.length > 1 ? h("section", { class: "card" }, h("h2", {}, "Your communities"), h("ul", {}, list.map((c) => h("li", {}, h("button", { type: "button", class: "link", onclick: () => { store.rememberCommunity(c.slug, c.name).then(() => { app.community = null; go("/home"); }); } }, c.name))))) : null,
    h("div", { class: "actions" }, signOut, forget),
    out,
  );
}

// -- start ----------------------------------------------------------------------------------

document.getElementById("menu-button").addEventListener("click", (event) => {
  const open = document.body.classList.toggle("menu-open");
  event.currentTarget.setAttribute("aria-expanded", String(open));
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.body.classList.contains("menu-open")) {
    closeMenu();
    document.getElementById("menu-button").focus();
  }
});
window.addEventListener("hashchange", route);
if ("serviceWorker" in navigator && location.protocol !== "file:") {
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch((error) => console.warn("service worker", error));
}
route();
