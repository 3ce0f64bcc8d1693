// Decide, beyond casting a vote: proxies (delegate for one poll or a period, revoke), voting for
// the members who delegated to you, results with their breakdown, and the ballot tracker lookup.

import { formatDatetime } from "./crypto.js";
import { busy, field, h, shortDid, toast, when } from "./ui.js";

/** Delegations to her still in force for `poll` (one for this poll, or a period covering now). */
export function proxiesFor(delegations, me, poll, now = Date.now()) {
  return delegations.filter((d) => d.proxy === me && !d.revoked && (d.poll
    ? d.poll === poll
    : (!d.valid_from || Date.parse(d.valid_from) <= now) && (!d.valid_until || now <= Date.parse(d.valid_until))));
}

function percent(n, total) {
  return total ? `${Math.round((1000 * n) / total) / 10}%` : "0%";
}

const OUTCOMES = {
  passed: "Passed", failed: "Failed", blocked: "Blocked", objected: "Objected", decided: "Decided", tie: "Tie",
  no_quorum: "No quorum", no_votes: "No votes", below_threshold: "Below the threshold",
};

/** A poll's final result as a readable breakdown (the raw tally stays one click away). */
export function resultView(result) {
  const parts = [h("h2", {}, "Result")];
  if (result.outcome) parts.push(h("p", { "data-testid": "outcome" }, h("strong", {}, OUTCOMES[result.outcome] || result.outcome),
    result.winners?.length ? `: ${result.winners.join(", ")}` : ""));
  const facts = [];
  if (result.voters !== undefined) facts.push(`${result.voters} voted of ${result.eligible} eligible`);
  if (result.delegated !== undefined) facts.push(`${result.delegated} by proxy`);
  if (result.quorum_met !== undefined) facts.push(result.quorum_met ? "quorum met" : "quorum not met");
  if (facts.length) parts.push(h("p", { class: "hint", "data-testid": "result-facts" }, facts.join(" · ")));
  const counts = result.totals || result.first_preferences;
  if (counts) {
    const total = Object.values(counts).reduce((a, b) => a + Number(b), 0);
    parts.push(h("table", { class: "breakdown", "data-testid": "breakdown" },
      h("caption", {}, result.totals ? "Votes per option" : "First preferences"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Option"), h("th", { scope: "col" }, "Votes"), h("th", { scope: "col" }, "Share"))),
      h("tbody", {}, Object.entries(counts).map(([option, n]) => h("tr", {},
        h("th", { scope: "row" }, option), h("td", {}, String(n)),
        h("td", {}, h("meter", { min: 0, max: total || 1, value: Number(n), "aria-label": `${option}: ${percent(Number(n), total)}` }), ` ${percent(Number(n), total)}`))))));
  }
  if (result.averages) {
    parts.push(h("ul", {}, Object.entries(result.averages).map(([option, avg]) => h("li", {}, `${option}: average ${avg}`))));
  }
  if (result.schulze_ranking || result.ranking) {
    const ranking = result.schulze_ranking ? result.schulze_ranking.map((tier) => tier.join(" = ")) : result.ranking;
    parts.push(h("div", {}, h("h3", {}, "Ranking"), h("ol", {}, ranking.map((r) => h("li", {}, r)))));
  }
  parts.push(h("details", {}, h("summary", {}, "The full tally"), h("pre", { class: "result" }, JSON.stringify(result, null, 2))));
  return h("section", { class: "card" }, parts);
}

/** Look a tracker up on the public ballot board: her encrypted ballot is there, unchanged. */
export function trackerLookup(board) {
  const out = h("p", { role: "status", "data-testid": "tracker-result" });
  const tracker = field("Ballot tracker", { name: "tracker", autocomplete: "off", spellcheck: "false" }, { hint: "The code you were given when you voted." });
  const submit = h("button", { type: "submit", class: "secondary" }, "Find my ballot");
  const form = h("form", { class: "card" }, h("h2", {}, "Check your ballot"), tracker, submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = form.tracker.value.trim().toLowerCase();
    const found = board.ballots.find((b) => b.tracker && b.tracker.toLowerCase() === wanted);
    out.textContent = !wanted ? "Enter a tracker." : found
      ? `On the board and counted: the ballot of ${shortDid(found.voter)}${found.cast_by !== found.voter ? `, cast by proxy ${shortDid(found.cast_by)}` : ""}.`
      : "No counted ballot has this tracker (a ballot replaced later no longer counts).";
  });
  return form;
}

async function delegationsScreen(_params, ctx) {
  const reload = () => delegationsScreen(_params, ctx);
  const me = ctx.app.keys.did;
  const [listed, directory, polls] = await Promise.all([
    ctx.session.get("/delegations"),
    ctx.session.get("/directory?status=active").catch(() => ({ members: [] })),
    ctx.session.get("/polls").catch(() => ({ polls: [] })),
  ]);
  const names = new Map(directory.members.filter((m) => m.did).map((m) => [m.did, m.name]));
  const name = (did) => names.get(did) || shortDid(did);
  const titles = new Map(polls.polls.map((p) => [p.poll, p.title]));
  const scope = (d) => (d.poll ? `for “${titles.get(d.poll) || d.poll}”` : `from ${when(d.valid_from)} to ${when(d.valid_until)}`);
  const out = h("div", { "aria-live": "polite" });
  const given = listed.delegations.filter((d) => d.delegator === me).map((d) => {
    const revoke = d.revoked ? null : h("button", { type: "button", class: "secondary" }, "Revoke");
    revoke?.addEventListener("click", () => busy(revoke, async () => {
      await ctx.session.act(`/delegations/${encodeURIComponent(d.delegation)}/revoke`, "governance.revoke_delegation", { delegation: d.delegation });
      toast("Delegation revoked.");
      await reload();
    }, out));
    return h("li", { class: "member", dataset: { delegation: d.delegation } }, `${name(d.proxy)} votes for you ${scope(d)} `,
      d.revoked ? h("span", { class: "badge" }, "revoked") : revoke);
  });
  const received = listed.delegations.filter((d) => d.proxy === me && !d.revoked).map((d) =>
    h("li", { class: "member" }, `${name(d.delegator)} asked you to vote ${scope(d)}`));
  const others = directory.members.filter((m) => m.did && m.did !== me);
  const open = polls.polls.filter((p) => p.status === "open" || p.status === "created");
  const proxy = field("Your proxy", { name: "proxy" }, { as: "select", options: others.map((m) => [m.did, m.name]) });
  const which = field("For", { name: "scope" }, { as: "select", options: [...open.map((p) => [`poll:${p.poll}`, `the poll “${p.title}”`]), ["period", "every poll until a date"]] });
  const until = field("Until", { name: "until", type: "date" }, { hint: "Only for a period." });
  const submit = h("button", { type: "submit" }, "Sign and delegate");
  const form = h("form", { class: "card" }, h("h2", {}, "Choose a proxy"), h("p", { class: "hint" },
    "Your proxy votes for you when you do not; your own vote always wins, and you can revoke at any time."), proxy, which, until, submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const body = { proxy: form.proxy.value };
      if (form.scope.value.startsWith("poll:")) body.poll = form.scope.value.slice(5);
      else {
        if (!form.until.value) throw Object.assign(new Error("choose the date the delegation ends"), { type: "until_required", status: 400 });
        body.valid_until = formatDatetime(new Date(`${form.until.value}T23:59:59Z`));
      }
      await ctx.session.act("/delegations", "governance.delegate", body);
      toast("Delegated.");
      await reload();
    }, out);
  });
  ctx.render(
    h("h1", {}, "Proxies"),
    h("section", {}, h("h2", {}, "Your delegations"), given.length ? h("ul", { class: "list", "data-testid": "given" }, given) : h("p", { class: "card", "data-testid": "given" }, "You have not delegated your vote.")),
    received.length ? h("section", {}, h("h2", {}, "You are a proxy"), h("ul", { class: "list", "data-testid": "received" }, received)) : null,
    others.length ? form : null,
  );
}

export const proxies = {
  id: "proxies",
  title: "Proxies",
  route: "/proxies",
  available: (paths) => paths.has("/c/{community}/delegations"),
  async summary() {
    return h("section", { class: "card" }, h("h2", {}, "Proxies"), h("p", {}, "Let someone you trust vote for you, or vote for others."), h("a", { href: "#/proxies" }, "Manage proxies"));
  },
  screen: delegationsScreen,
};
