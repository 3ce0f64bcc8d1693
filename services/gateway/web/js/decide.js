// Decide, beyond casting a vote: proxies (delegate for one poll or a period, revoke), voting for
// the members who delegated to you, results with their breakdown, the ballot tracker lookup,
// meeting polls' times (who can come when, the meeting fixed, its calendar file), count polls
// (who is in, against the target), and complaints of a secret poll's dealt shares.

import { formatDatetime } from "./crypto.js";
import { revealedShare } from "./trustee.js";
import { actionButton, busy, download, errorBox, field, h, shortDid, toast, when } from "./ui.js";

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

// -- Meeting polls (Loomio's time poll): each option is the instant a meeting would start --------

// Her answer to a time, as a ballot carries it; the ballot form offers them in ANSWERS' order.
const CAN = 2;
const IF_NEED_BE = 1;
export const ANSWERS = [
  { value: CAN, label: "Can attend", mark: "✓", class: "yes" },
  { value: IF_NEED_BE, label: "If need be", mark: "(✓)", class: "maybe" },
  { value: 0, label: "Can't attend", mark: "✗", class: "no" },
];

/** The time zone the app shows and reads times in: the device's own. */
export function timeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** A meeting's day and hours in her time zone and locale: { date: "Thu 3 Dec", hours: "18:00–19:00" }
 * (the year only when it is not this one; the end's day too when the meeting runs past midnight). */
function meetingParts(start, end) {
  const from = new Date(start);
  const to = new Date(end);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return { date: String(start), hours: "" };
  const year = from.getFullYear() !== new Date().getFullYear() ? { year: "numeric" } : {};
  const date = { weekday: "short", day: "numeric", month: "short", ...year };
  const time = { hour: "numeric", minute: "2-digit" };
  const ends = from.toDateString() === to.toDateString()
    ? to.toLocaleTimeString(undefined, time)
    : to.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", ...time });
  return { date: from.toLocaleDateString(undefined, date), hours: `${from.toLocaleTimeString(undefined, time)}–${ends}` };
}

/** "Thu 3 Dec, 18:00–19:00". */
function meetingText(start, end) {
  const { date, hours } = meetingParts(start, end);
  return hours ? `${date}, ${hours}` : date;
}

/** The end of a meeting poll's time slot, `option` being its start. */
function slotEnd(poll, option) {
  return new Date(Date.parse(option) + (poll.spec.duration_min ?? 60) * 60_000).toISOString();
}

export function isMeeting(poll) {
  return poll?.spec?.kind === "meeting";
}

/** A meeting poll's time slot in words; any other poll's option as it is. */
export function optionText(poll, option) {
  return isMeeting(poll) ? meetingText(option, slotEnd(poll, option)) : option;
}

/** An answer's mark (✓, (✓), ✗) for the eye, its words for screen readers. */
function marked(answer) {
  return [h("span", { "aria-hidden": "true" }, answer.mark), h("span", { class: "sr-only" }, answer.label)];
}

function answerCell(answer, best) {
  const said = ANSWERS.find((a) => a.value === answer) ?? ANSWERS[2];
  return h("td", { class: `answer ${said.class}${best ? " best" : ""}`, title: said.label }, marked(said));
}

const MARKS = `✓ can attend, (✓) if need be, ✗ can't attend.`;

/** Who can come when (Loomio's time poll grid): one row per member who answered, one column per
 * time, and how many can come to each; `names` maps a member's DID to her name, `best` lists the
 * best times once counted. Scrolls sideways on a phone rather than squeezing the times. */
export function availabilityTable(poll, ballots, names, best = []) {
  const people = ballots.map((b) => [names.get(b.voter) ?? shortDid(b.voter), b.choice])
    .sort(([a], [b]) => a.localeCompare(b));
  const isBest = poll.options.map((option) => best.includes(option));
  const heading = (option, i) => {
    const { date, hours } = meetingParts(option, slotEnd(poll, option));
    return h("th", { scope: "col", class: isBest[i] ? "best" : null }, date, h("br"), hours,
      isBest[i] ? [h("br"), h("span", { class: "badge" }, "best")] : null);
  };
  const coming = (_, i) => {
    const said = (answer) => ballots.filter((b) => b.choice[i] === answer).length;
    const maybe = said(IF_NEED_BE);
    return h("td", { class: isBest[i] ? "best" : null }, String(said(CAN) + maybe),
      maybe ? h("span", { class: "hint" }, ` (${maybe} if need be)`) : null);
  };
  const table = h("table", { class: "availability", "data-testid": "availability" },
    h("caption", { class: "sr-only" }, "Who can come when"), // the card's heading says it on screen
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Member"), poll.options.map(heading))),
    h("tbody", {}, people.map(([name, choice]) => h("tr", {}, h("th", { scope: "row" }, name),
      poll.options.map((_, i) => answerCell(choice[i], isBest[i]))))),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Can come"), poll.options.map(coming))));
  return h("section", { class: "card", "aria-label": "Who can come when" },
    h("h2", {}, "Who can come when"),
    h("p", { class: "hint" }, `Times in your time zone (${timeZone()}). ${MARKS}`),
    h("div", { class: "scroll", role: "region", "aria-label": "Who can come when, by time", tabindex: "0" }, table));
}

/** A meeting poll's result: its times best first, with who can come to each. */
function meetingBreakdown(poll, result) {
  const row = (option) => {
    const said = result.availability?.[option] ?? { yes: 0, maybe: 0, no: 0 };
    return h("tr", {}, h("th", { scope: "row" }, optionText(poll, option)),
      h("td", {}, String(said.yes)), h("td", {}, String(said.maybe)), h("td", {}, String(said.no)));
  };
  return h("table", { class: "breakdown", "data-testid": "breakdown" },
    h("caption", {}, "Times, best first"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Time"), ANSWERS.map((a) => h("th", { scope: "col", class: `answer ${a.class}`, title: a.label }, marked(a))))),
    h("tbody", {}, (result.ranking ?? poll.options).map(row)));
}

/** Add a meeting to her calendar: the poll's calendar file, fetched with her session, saved as a file. */
function calendarButton(ctx, poll, where) {
  const button = h("button", { type: "button", class: "secondary" }, "Add to calendar");
  button.addEventListener("click", () => busy(button, async () => {
    const text = await ctx.session.text(`/polls/${encodeURIComponent(poll.poll)}/meeting.ics`);
    download(`${fileName(poll.spec.title)}.ics`, text, "text/calendar");
  }, where));
  return button;
}

/** A title as a file name: without the characters file systems refuse. */
function fileName(title) {
  return title.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, " ").replace(/\s+/g, " ").trim() || "meeting";
}

/** The meeting its author fixed: "Meeting: Thu 3 Dec, 18:00–19:00, The back room". */
export function meetingLine(ctx, poll) {
  const out = h("div", { "aria-live": "polite" });
  const { start, end, location } = poll.meeting;
  return h("div", { class: "meeting" },
    h("p", { "data-testid": "meeting" }, h("strong", {}, "Meeting: "), [meetingText(start, end), location].filter(Boolean).join(", ")),
    h("p", { class: "hint" }, `In your time zone (${timeZone()}).`),
    calendarButton(ctx, poll, out), out);
}

// -- Count polls (Loomio's count): each member is in (0) or out (1); enough ins reach the target --

export const IN = 0;
export const OUT = 1;
const COUNT_OUTCOMES = { passed: "Target reached", failed: "Target not reached" };

export function isCount(poll) {
  return poll?.spec?.kind === "count";
}

/** "7 of 10 needed": a count poll's ins against its target, as a bar and in words. */
export function countBar({ in: ins, target, reached }) {
  const words = `${ins} of ${target} needed`;
  return h("div", { class: "count-progress" },
    h("progress", { max: target, value: Math.min(ins, target), "aria-label": `In so far: ${words}` }),
    h("p", { "data-testid": "count-progress" }, h("strong", {}, words), reached ? " · target reached" : ""));
}

/** Who is in (Loomio's count poll): the bar, and the names of those in (and, smaller, those out). */
export function whoIsIn(progress, ins, outs) {
  return h("section", { class: "card", "aria-label": "Who is in" },
    h("h2", {}, `Who is in (${ins.length})`),
    countBar(progress),
    ins.length
      ? h("ul", { class: "plain who-is-in", "data-testid": "who-is-in" }, ins.map((name) => h("li", {}, name)))
      : h("p", { class: "hint", "data-testid": "who-is-in" }, "No one is in yet."),
    outs.length ? h("p", { class: "hint", "data-testid": "who-is-out" }, `Out (${outs.length}): ${outs.join(", ")}`) : null);
}

/** A result's outcome in words, [label, what follows]: ["Decided", ": Mill B"], ["Target reached", ": 7 of 5 needed"]. */
function outcomeWords(result, poll) {
  const meeting = isMeeting(poll);
  const counting = isCount(poll) && result.target !== undefined;
  const label = (counting && COUNT_OUTCOMES[result.outcome]) || OUTCOMES[result.outcome] || result.outcome;
  const winners = result.winners?.length ? `: ${result.winners.map((w) => optionText(poll, w)).join(meeting ? "; " : ", ")}` : "";
  return [label, `${winners}${counting ? `: ${result.in} of ${result.target} needed` : ""}`];
}

/** A poll's result in a few words, as the first line of its result card says it ("" before there is one). */
export function resultLine(result, poll = null) {
  return result?.outcome ? outcomeWords(result, poll).join("") : "";
}

/** A poll's final result as a readable breakdown (the raw tally stays one click away). */
export function resultView(result, poll = null) {
  const meeting = isMeeting(poll);
  const parts = [h("h2", {}, "Result")];
  if (result.outcome) {
    const [label, rest] = outcomeWords(result, poll);
    parts.push(h("p", { "data-testid": "outcome" }, h("strong", {}, label), rest));
  }
  const facts = [];
  if (result.voters !== undefined) facts.push(`${result.voters} voted of ${result.eligible} eligible`);
  if (result.delegated !== undefined) facts.push(`${result.delegated} by proxy`);
  if (result.quorum_met !== undefined) facts.push(result.quorum_met ? "quorum met" : "quorum not met");
  if (facts.length) parts.push(h("p", { class: "hint", "data-testid": "result-facts" }, facts.join(" · ")));
  const counts = result.totals || result.first_preferences;
  if (meeting) {
    parts.push(meetingBreakdown(poll, result), h("p", { class: "hint" }, `Times in your time zone (${timeZone()}). ${MARKS}`));
  } else if (counts) {
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
  if (!meeting && (result.schulze_ranking || result.ranking)) {
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

// -- Complaints of dealt shares (secret polls) --------------------------------------------------
// Only a trustee can open the shares sealed to her. When one is false she complains, in public;
// its dealer answers by revealing that share in the clear, which anyone checks against the
// commitments she published, and the complainer counts with it.

/** The complaints and their answers, for everyone; for a dealer complained of, her answer. */
export function complaintsPart({ poll, me, names, keys, act, out, reload }) {
  const complaints = poll.complaints ?? [];
  if (!complaints.length) return [];
  const who = (i) => `trustee ${i} (${names[i - 1]})`;
  const parts = [h("h3", {}, "Complaints of dealt shares"), h("ul", { class: "plain", "data-testid": "complaints" }, complaints.map((c) =>
    h("li", {}, `${who(c.recipient)} says the share ${who(c.dealer)} dealt them is false: `,
      c.revealed
        ? h("span", { class: "badge" }, "revealed in public; it matches the commitments")
        : h("span", { class: "badge" }, `waiting for trustee ${c.dealer} to reveal it`))))];
  for (const c of complaints.filter((x) => x.dealer === me && !x.revealed)) {
    parts.push(h("p", { class: "hint" }, `Revealing it shows only what you dealt ${names[c.recipient - 1]}; it lets them count.`),
      actionButton(`Sign and reveal the share for trustee ${c.recipient}`, async () => {
        await act("reveal_share", { poll: poll.poll, recipient: c.recipient, share: await revealedShare(keys, poll, c.recipient) });
        toast(`The share for trustee ${c.recipient} is revealed and checked.`);
      }, out, { after: reload, primary: true }));
  }
  return parts;
}

/** When a share dealt to her is false (a CeremonyError naming its dealer): say so, and offer to
 * complain, unless she already has. Returns whether it answered the error. */
export function offerComplaint({ error, poll, me, act, out, reload }) {
  if (!error || error.type !== "share_rejected" || !error.dealer) return false;
  const already = (poll.complaints ?? []).some((c) => c.dealer === error.dealer && c.recipient === me);
  out.replaceChildren(errorBox(error), already
    ? h("p", { class: "hint" }, `You have complained; trustee ${error.dealer} is to reveal the share.`)
    : actionButton(`Complain: ask trustee ${error.dealer} to reveal the share in public`, async () => {
        await act("complain_share", { poll: poll.poll, dealer: error.dealer });
        toast(`Your complaint is signed: trustee ${error.dealer} is asked to reveal the share.`);
      }, out, { after: reload, primary: true }));
  return true;
}
