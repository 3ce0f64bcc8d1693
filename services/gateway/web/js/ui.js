// Building the page from data without ever parsing it as HTML: every text is a text node.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

let fieldIds = 0;

/** A labelled input (or textarea/select when `as` says so). */
export function field(label, attrs = {}, { as = "input", hint = "", options = [] } = {}) {
  const id = attrs.id || `f${++fieldIds}`;
  const hintId = hint ? `${id}-hint` : undefined;
  const control =
    as === "select"
      ? h("select", { ...attrs, id, "aria-describedby": hintId }, options.map(([v, t]) => h("option", { value: v }, t)))
      : h(as, { ...attrs, id, "aria-describedby": hintId });
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint && h("p", { class: "hint", id: hintId }, hint));
}

// Screens: every navigation opens one, and only the newest may paint. A screen's handler awaits the
// network before it renders, so without this a slower, earlier screen would overwrite a later one.
let screens = 0;
let showing = null;

/** Open the screen of a new navigation: the previous one is superseded (its `signal` aborts,
 * its `render` paints nothing from now on). */
export function openScreen() {
  const id = ++screens;
  if (showing) showing.abort();
  showing = new AbortController();
  const { signal } = showing;
  return {
    signal,
    get current() {
      return id === screens;
    },
    render(...nodes) {
      if (id !== screens) return false;
      paint(...nodes);
      return true;
    },
  };
}

function paint(...nodes) {
  const main = document.getElementById("main");
  main.replaceChildren(...nodes.flat(Infinity).filter((node) => node !== null && node !== undefined && node !== false));
  const heading = main.querySelector("h1");
  (heading || main).setAttribute("tabindex", "-1");
  (heading || main).focus({ preventScroll: false });
}

export function toast(message, kind = "info") {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.dataset.kind = kind;
  el.classList.add("shown");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove("shown"), 5000);
}

export function errorBox(error) {
  const type = error && error.type ? error.type : "error";
  return h(
    "div",
    { class: "error", role: "alert", dataset: { type } },
    h("strong", {}, humanError(error)),
    h("span", { class: "code" }, ` (${type})`),
  );
}

const MESSAGES = {
  offline: "The community's server cannot be reached. Check your connection and try again.",
  invite_used: "This invite has already been used.",
  invite_accepted: "This invite has already been used.",
  invite_expired: "This invite has expired; ask for a new one.",
  invite_revoked: "This invite was withdrawn by the person who sent it.",
  invalid_invite_token: "This invite link is incomplete or altered.",
  invalid_invitation: "The invitation does not match; ask the admin for a new one.",
  invitation_used: "This invitation has already been used.",
  not_an_admin: "Only an admin of this community can do that.",
  not_a_member: "Only members in good standing can see this.",
  statement_replayed: "That was already sent once; nothing was changed.",
  forged_statement: "The signature did not verify; nothing was changed.",
  unknown_community: "There is no such community here.",
};

export function humanError(error) {
  if (!error) return "Something went wrong.";
  return MESSAGES[error.type] || error.message || String(error);
}

/** Run `work` while `button` shows it is busy; errors land in `where` (or a toast). */
export async function busy(button, work, where = null) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    if (where) where.replaceChildren();
    return await work();
  } catch (error) {
    // A typed refusal (from the server, or a check made here before anything is sent) is an
    // answer shown to the member, not a fault in the page; a server error or a bug is logged.
    if (!(error && error.type && !(error.status >= 500))) console.error(error);
    if (where) where.replaceChildren(errorBox(error));
    else toast(humanError(error), "error");
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}

/** A button that runs `work` (then `after`, e.g. a reload) while showing it is busy; errors go
 * to `where`. Secondary style unless `primary`. */
export function actionButton(label, work, where, { after = null, primary = false } = {}) {
  const button = h("button", { type: "button", class: primary ? undefined : "secondary" }, label);
  button.addEventListener("click", () => busy(button, async () => {
    await work();
    if (after) await after();
  }, where));
  return button;
}

/** Whether a member record is an admin in good standing: who may use the admin screens. */
export function isAdminMember(me) {
  return Boolean(me && me.roles.includes("admin") && ["active", "in_grace"].includes(me.standing));
}

export function shortDid(did) {
  return did && did.length > 24 ? `${did.slice(0, 16)}…${did.slice(-6)}` : did;
}

/** "1 member", "3 members": a count with its noun (`many` for irregular plurals). */
export function count(n, one, many = `${one}s`) {
  return `${n} ${Number(n) === 1 ? one : many}`;
}

/** A date without its time of day, in her locale ("24/11/2027"). */
export function day(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleDateString();
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function download(name, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
