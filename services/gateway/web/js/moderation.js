// Moderation: any reader flags a post or message; moderators hide, remove or restore it with a
// reason and ban members from a space; every decision is in the log members read; the member a
// decision affected appeals, and another moderator upholds or overturns it. All signed here.

import { actionButton, busy, count, field, h, shortDid, toast, when } from "./ui.js";

const MSG = "/messaging";

function whenNs(ns) {
  return ns ? when(new Date(Number(ns) / 1e6).toISOString()) : "";
}

export function isModerator(ctx) {
  const roles = ctx.app.me?.roles || [];
  return roles.includes("admin") || roles.includes("moderator");
}

function act(ctx, name, body) {
  return ctx.session.act(`${MSG}/acts/${name}`, `messaging.${name}`, body);
}

function reasonOf(form) {
  const reason = form.reason.value.trim();
  if (!reason) {
    // Refused here, before anything is signed: shown like the service's own typed refusals.
    throw Object.assign(new Error("give a reason: it is recorded in the moderation log"), { type: "reason_required", status: 400 });
  }
  return reason;
}

/** The report / moderate / appeal box under a forum post or chat message. */
export function moderationTools(ctx, { kind, target, by, state = "visible", space }, reload) {
  const me = ctx.app.keys.did;
  const moderator = isModerator(ctx);
  const mine = by === me;
  const out = h("div", { "aria-live": "polite" });
  const reason = field("Reason", { name: "reason", maxlength: 1000, autocomplete: "off" });
  const buttons = [];
  const button = (label, work, secondary = true) => {
    buttons.push(actionButton(label, work, out, { after: reload, primary: !secondary }));
  };
  const form = h("form", { class: "moderation" });
  if (!mine && state === "visible") {
    button("Flag", async () => {
      await act(ctx, "moderate", { target, kind, action: "flag", reason: reasonOf(form) });
      toast("Flagged for the moderators.");
    }, false);
  }
  if (moderator && !mine) {
    if (state === "visible") {
      button("Hide", async () => act(ctx, "moderate", { target, kind, action: "hide", reason: reasonOf(form) }));
      button("Remove", async () => act(ctx, "moderate", { target, kind, action: "remove", reason: reasonOf(form) }));
    } else {
      button("Restore", async () => act(ctx, "moderate", { target, kind, action: "restore", reason: reasonOf(form) }));
    }
    if (space) {
      button("Ban the author here", async () => {
        await act(ctx, "ban", { space, member: by, reason: reasonOf(form) });
        toast("Banned from this space.");
      });
    }
  }
  if (mine && state !== "visible") {
    button("Appeal", async () => {
      await act(ctx, "file_appeal", { target_kind: kind, target, reason: reasonOf(form) });
      toast("Appeal filed: another moderator will decide.");
    }, false);
  }
  if (!buttons.length) return null;
  form.append(reason, h("div", { class: "row" }, buttons), out);
  form.addEventListener("submit", (event) => event.preventDefault());
  const summary = mine ? "Appeal this decision" : moderator ? "Moderate" : "Report";
  return h("details", { class: "tools" }, h("summary", {}, summary), form);
}

function flagRow(ctx, flag, name, reload) {
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "moderation" });
  const reason = field("Reason", { name: "reason", maxlength: 1000, autocomplete: "off" }, { hint: "Recorded in the moderation log with your decision." });
  // Only the decisions that change something: hiding a hidden post, or restoring a visible one, does not.
  const actions = { visible: ["hide", "remove"], hidden: ["restore", "remove"], removed: ["restore"] }[flag.state || "visible"] || ["hide", "remove", "restore"];
  const buttons = actions.map((action) => {
    const b = h("button", { type: "button", class: action === actions[0] ? undefined : "secondary" }, action[0].toUpperCase() + action.slice(1));
    b.addEventListener("click", () => busy(b, async () => {
      await act(ctx, "moderate", { target: flag.target, kind: flag.kind, action, reason: reasonOf(form) });
      toast(`Done: ${action}.`);
      await reload();
    }, out));
    return b;
  });
  form.append(reason, h("div", { class: "row" }, buttons), out);
  form.addEventListener("submit", (event) => event.preventDefault());
  const where = flag.kind === "post" && flag.thread
    ? h("a", { href: `#/forums?thread=${encodeURIComponent(flag.thread)}` }, `a post in ${flag.space_name || flag.space}`)
    : flag.kind === "message" && flag.conversation
      ? h("a", { href: `#/chat?conversation=${encodeURIComponent(flag.conversation)}` }, `a message in ${flag.space_name ? `# ${flag.space_name}` : "a conversation"}`)
      : `${flag.kind} ${flag.target}`;
  const content = flag.sealed
    ? h("p", { class: "hint" }, "(end-to-end encrypted: its words are only in the members' browsers)")
    : flag.excerpt ? h("blockquote", { class: "flagged" }, flag.excerpt) : null;
  return h("li", { class: "card", dataset: { target: flag.target } },
    h("p", {}, h("strong", {}, count(flag.flags.length, "flag")), " on ", where, flag.author ? ` by ${name(flag.author)}` : "",
      flag.state && flag.state !== "visible" ? h("span", { class: "badge" }, flag.state) : null),
    content,
    h("ul", {}, flag.flags.map((f) => h("li", {}, `${name(f.by)}: ${f.reason}`, h("span", { class: "hint" }, ` · ${whenNs(f.at_ns)}`)))),
    form);
}

function appealRow(ctx, appeal, name, reload) {
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "moderation" });
  const reason = field("Reason for your decision", { name: "reason", maxlength: 1000, autocomplete: "off" });
  const buttons = [["upheld", "Uphold"], ["overturned", "Overturn"]].map(([decision, label]) => {
    const b = h("button", { type: "button", class: decision === "upheld" ? "secondary" : undefined }, label);
    b.addEventListener("click", () => busy(b, async () => {
      await act(ctx, "decide_appeal", { appeal: appeal.appeal, decision, reason: reasonOf(form) });
      toast(`Appeal ${decision}.`);
      await reload();
    }, out));
    return b;
  });
  form.append(reason, h("div", { class: "row" }, buttons), out);
  form.addEventListener("submit", (event) => event.preventDefault());
  return h("li", { class: "card", dataset: { appeal: appeal.appeal } },
    h("p", {}, `${name(appeal.by)} appeals the decision on ${appeal.target_kind} ${appeal.target}: `, h("q", {}, appeal.reason)),
    h("p", { class: "hint" }, whenNs(appeal.filed_ns)), form);
}

function banForm(ctx, reload, { spaces, members }) {
  const out = h("div", { "aria-live": "polite" });
  const space = field("Space", { name: "space", required: true }, { as: "select", options: spaces });
  const member = field("Member", { name: "member", required: true }, { as: "select", options: members });
  const reason = field("Reason", { name: "reason", maxlength: 1000, autocomplete: "off" });
  const ban = h("button", { type: "submit" }, "Ban");
  const lift = h("button", { type: "button", class: "secondary" }, "Lift the ban");
  const form = h("form", { class: "card" }, h("h2", {}, "Ban from a space"), space, member, reason, h("div", { class: "row" }, ban, lift), out);
  const run = (button, banned) => busy(button, async () => {
    await act(ctx, "ban", { space: form.space.value, member: form.member.value, reason: reasonOf(form), ban: banned });
    toast(banned ? "Banned." : "Ban lifted.");
    await reload();
  }, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(ban, true);
  });
  lift.addEventListener("click", () => run(lift, false));
  return form;
}

function appealForm(ctx, reload) {
  const out = h("div", { "aria-live": "polite" });
  const kind = field("Decision on", { name: "kind" }, { as: "select", options: [["post", "A forum post of mine"], ["message", "A chat message of mine"], ["ban", "A ban of me from a space"]] });
  const target = field("Post, message or space", { name: "target", required: true, autocomplete: "off" }, { hint: "Pick “Appeal” on an entry of the log below to fill this in." });
  const reason = field("Why it should be reversed", { name: "reason", maxlength: 1000, rows: 3 }, { as: "textarea" });
  const submit = h("button", { type: "submit", class: "secondary" }, "File the appeal");
  const form = h("form", { class: "card", id: "appeal-form" }, h("h2", {}, "Appeal a decision"), kind, target, reason, submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      await act(ctx, "file_appeal", { target_kind: form.kind.value, target: form.target.value.trim(), reason: reasonOf(form) });
      toast("Appeal filed: another moderator will decide.");
      await reload();
    }, out);
  });
  return form;
}

function logRow(ctx, entry, name, appeal) {
  const appealable = ["hide", "remove"].includes(entry.action) || (entry.action === "ban" && entry.target === ctx.app.keys.did);
  let button = null;
  if (appealable) {
    button = h("button", { type: "button", class: "link" }, "Appeal");
    button.addEventListener("click", () => {
      appeal.kind.value = entry.kind;
      appeal.target.value = entry.kind === "ban" ? entry.space : entry.target;
      appeal.reason.focus();
    });
  }
  return h("li", { class: "member", dataset: { target: entry.target } },
    h("span", { class: "badge" }, entry.action), ` ${entry.kind} ${entry.kind === "ban" ? name(entry.target) : entry.target}${entry.space ? ` in ${entry.space}` : ""} by ${name(entry.by)}: ${entry.reason}`,
    h("span", { class: "hint" }, ` · ${whenNs(entry.at_ns)} `), button);
}

async function moderationScreen(_params, ctx) {
  const reload = () => moderationScreen(_params, ctx);
  const moderator = isModerator(ctx);
  const [log, mine, queue, categories, conversations, directory] = await Promise.all([
    ctx.session.get(`${MSG}/moderation/log`),
    ctx.session.get(`${MSG}/appeals`),
    moderator ? ctx.session.get(`${MSG}/moderation/queue`) : Promise.resolve(null),
    moderator ? ctx.session.get(`${MSG}/categories`).catch(() => ({ categories: [] })) : null,
    moderator ? ctx.session.get(`${MSG}/conversations`).catch(() => ({ conversations: [] })) : null,
    moderator ? ctx.session.get("/directory?status=active").catch(() => ({ members: [] })) : null,
  ]);
  const dids = new Set([...log.entries.flatMap((e) => [e.by, ...(e.kind === "ban" ? [e.target] : [])]), ...(queue ? queue.flags.flatMap((f) => [...f.flags.map((x) => x.by), ...(f.author ? [f.author] : [])]) : []), ...(queue ? queue.appeals.map((a) => a.by) : [])]);
  const names = new Map();
  for (const did of dids) names.set(did, await ctx.nameOf(did));
  const name = (did) => names.get(did) || shortDid(did);
  const parts = [h("h1", {}, "Moderation")];
  if (queue) {
    parts.push(h("section", {}, h("h2", {}, "Flagged"),
      queue.flags.length ? h("ol", { class: "list", "data-testid": "flag-queue" }, queue.flags.map((f) => flagRow(ctx, f, name, reload))) : h("p", { class: "card", "data-testid": "flag-queue" }, "Nothing is flagged.")));
    const others = queue.appeals.filter((a) => a.by !== ctx.app.keys.did);
    parts.push(h("section", {}, h("h2", {}, "Appeals to decide"),
      others.length ? h("ol", { class: "list", "data-testid": "appeal-queue" }, others.map((a) => appealRow(ctx, a, name, reload))) : h("p", { class: "card" }, "No appeals waiting.")));
    // Spaces and members by name: nobody types a DID or a scope. Direct conversations have no bans.
    const spaces = [
      ...categories.categories.map((c) => [`category:${c.category}`, `Forum: ${c.name}`]),
      ...conversations.conversations.filter((c) => c.kind !== "direct").map((c) => [`conversation:${c.conversation}`, `Chat: # ${c.name || c.conversation}`]),
    ];
    const members = directory.members.filter((m) => m.did && m.did !== ctx.app.keys.did).map((m) => [m.did, m.name || shortDid(m.did)]);
    parts.push(banForm(ctx, reload, { spaces, members }));
  }
  parts.push(h("section", {}, h("h2", {}, "Your appeals"),
    mine.appeals.length
      ? h("ul", { class: "list", "data-testid": "my-appeals" }, mine.appeals.map((a) => h("li", { class: "member" },
          `${a.target_kind} ${a.target}: `, h("span", { class: "badge" }, a.decision || "waiting"), a.decision_reason ? h("span", { class: "hint" }, ` — ${a.decision_reason}`) : null)))
      : h("p", { class: "card" }, "You have filed no appeals.")));
  const appeal = appealForm(ctx, reload);
  parts.push(appeal);
  parts.push(h("section", {}, h("h2", {}, "Moderation log"), h("p", { class: "hint" }, "Every decision, by whom and why; each is a signed statement."),
    log.entries.length
      ? h("ol", { class: "list", "data-testid": "moderation-log" }, log.entries.map((e) => logRow(ctx, e, name, appeal)))
      : h("p", { class: "card", "data-testid": "moderation-log" }, "No decisions yet.")));
  ctx.render(parts);
}

export const moderation = {
  id: "moderation",
  title: "Moderation",
  route: "/moderation",
  available: (paths) => paths.has(`/c/{community}${MSG}/moderation/log`),
  async summary(ctx) {
    if (!isModerator(ctx)) {
      return h("section", { class: "card" }, h("h2", {}, "Moderation"), h("p", {}, "See every moderation decision and your appeals."), h("a", { href: "#/moderation" }, "Open moderation"));
    }
    const queue = await ctx.session.get(`${MSG}/moderation/queue`).catch(() => ({ flags: [], appeals: [] }));
    return h("section", { class: "card" }, h("h2", {}, "Moderation"),
      h("p", {}, `${count(queue.flags.length, "flagged item")}, ${count(queue.appeals.length, "appeal")} waiting.`),
      h("a", { href: "#/moderation" }, "Open the queue"));
  },
  screen: moderationScreen,
};
