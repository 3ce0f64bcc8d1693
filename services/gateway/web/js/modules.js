// The community modules beyond Members: each lights up in the app when the gateway serves its
// routes (read from /openapi.json), so the app never shows a screen whose API is missing.

import { ApiError } from "./api.js";
import { bytesToHex, formatDatetime, sha256 } from "./crypto.js";
import { encryptBallot, voteVector } from "./ballot.js";
import { dealAsTrustee, partialDecryption, trusteeIndex, trusteeKey } from "./trustee.js";
import {
  ANSWERS, IN, OUT, availabilityTable, complaintsPart, isCount, isMeeting, meetingLine, offerComplaint, optionText, proxies, proxiesFor,
  resultLine, resultView, timeZone, trackerLookup, whoIsIn,
} from "./decide.js";
import { isModerator, moderation, moderationTools } from "./moderation.js";
import { SOCIAL_MODULES, plainText, slug } from "./social.js";
import { actionButton, busy, count, field, h, isAdminMember, shortDid, toast, when } from "./ui.js";

function serves(paths, prefixes) {
  for (const path of paths) {
    if (prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return true;
  }
  return false;
}

function waiting(id, title, route, prefixes, blurb) {
  return {
    id,
    title,
    route,
    available: (paths) => serves(paths, prefixes),
    async summary() {
      return h("section", { class: "card" }, h("h2", {}, title), h("p", {}, blurb), h("a", { href: `#${route}` }, `Open ${title.toLowerCase()}`));
    },
    async screen(_params, ctx) {
      ctx.render(h("h1", {}, title), h("p", { class: "card" }, blurb, " This screen arrives with the next version of the app."));
    },
  };
}

// -- Decide: polls, voted by signing in the browser -----------------------------------------

const SINGLE = new Set(["single", "proposal", "consent"]);

/** Only links into the app or to the web: a poll's discussion link is the author's text. */
function safeLink(href) {
  return typeof href === "string" && (/^#\//.test(href) || /^https?:\/\//i.test(href));
}

const THREAD_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A Discuss thread's link in the app: what a poll started from the thread keeps as its discussion. */
function threadLink(thread) {
  return `#/forums?thread=${encodeURIComponent(thread)}`;
}

/** The thread an in-app discussion link names (`#/forums?thread=<id>`, perhaps `&post=<id>`), else
 * null: the governance service reads links the same way when it lists a thread's polls. */
function threadOf(link) {
  if (typeof link !== "string" || !link.startsWith("#/forums?")) return null;
  const threads = new URLSearchParams(link.slice("#/forums?".length)).getAll("thread");
  return threads.length === 1 && THREAD_ID.test(threads[0]) ? threads[0] : null;
}

/** Where a poll is discussed: "Discussed in: <thread title>" for a thread of the forums she may
 * read, else the plain link (a thread she may not read, or one gone, is not an error here). */
async function discussedIn(ctx, link) {
  if (!safeLink(link)) return null;
  const thread = threadOf(link);
  const title = thread
    ? await ctx.session.get(`${MSG}/threads/${encodeURIComponent(thread)}`).then((t) => t.title, (error) => {
        if (!(error instanceof ApiError && [403, 404].includes(error.status))) console.warn("discussion thread", error);
        return null;
      })
    : null;
  return title
    ? h("p", { "data-testid": "discussed-in" }, "Discussed in: ", h("a", { href: link }, title))
    : h("p", {}, h("a", { href: link }, "The discussion"));
}

/** When a listed poll closes, or closed. */
function pollWhen(p) {
  return p.status === "open" ? `closes ${when(p.closes_at)}` : p.closed_at ? `closed ${when(p.closed_at)}` : `closes ${when(p.closes_at)}`;
}

/** A ballot's choice in words: the option(s) chosen, the ranking, the points per option, or the
 * times she can come to. */
export function stanceText(poll, choice) {
  const options = poll.options;
  const kind = poll.spec.kind;
  if (kind === "meeting") {
    const times = (answer) => options.filter((_, i) => choice[i] === answer).map((option) => optionText(poll, option));
    const said = ANSWERS.filter((a) => a.value > 0).map((a) => [a.label, times(a.value)]).filter(([, t]) => t.length);
    return said.length ? said.map(([label, t]) => `${label}: ${t.join("; ")}`).join(". ") : "Can't attend any of the times";
  }
  if (kind === "ranked") return choice.map((i, n) => `${n + 1}. ${options[i] ?? i}`).join(", ");
  if (kind === "score" || kind === "dot") {
    const given = choice.map((v, i) => [options[i] ?? i, v]).filter(([, v]) => v > 0);
    return given.length ? given.map(([o, v]) => `${o} ${v}`).join(", ") : "nothing";
  }
  return choice.map((i) => options[i] ?? i).join(", ");
}

/** Each member's position, as the board shows it: her choice, her signed reason, a proxy's hand. */
async function positions(ctx, poll, board) {
  if (board.secret || !board.ballots.length) return null;
  const rows = await Promise.all(board.ballots.map(async (b) => {
    const name = await nameOf(ctx, b.voter);
    const proxy = b.cast_by !== b.voter ? ` (cast by ${await nameOf(ctx, b.cast_by)} as proxy)` : "";
    return h("li", { class: "stance", dataset: { voter: b.voter } },
      h("strong", {}, name), `: ${stanceText(poll, b.choice)}${proxy}`,
      b.reason ? h("blockquote", {}, b.reason) : null);
  }));
  return h("section", { class: "card", "aria-label": "Positions" }, h("h2", {}, `Positions (${rows.length})`),
    h("ul", { class: "plain", "data-testid": "positions" }, rows));
}

/** A meeting poll's grid of who can come when, from the public board (the best times marked once counted). */
async function whoCanCome(ctx, poll, board, result) {
  if (!isMeeting(poll) || board.secret || !board.ballots.length) return null;
  const names = new Map(await Promise.all(board.ballots.map(async (b) => [b.voter, await nameOf(ctx, b.voter)])));
  return availabilityTable(poll, board.ballots, names, result?.winners ?? []);
}

/** A count poll's bar ("7 of 10 needed") and who is in, from the service's count and the public board. */
async function whoIsInCard(ctx, poll, board, results) {
  if (!isCount(poll) || board.secret) return null;
  const named = async (choice) => (await Promise.all(board.ballots.filter((b) => b.choice?.[0] === choice)
    .map((b) => nameOf(ctx, b.voter)))).sort((a, b) => a.localeCompare(b));
  const [ins, outs] = await Promise.all([named(IN), named(OUT)]);
  const target = poll.spec.target;
  const progress = results.count ?? { in: ins.length, out: outs.length, target, reached: ins.length >= target };
  return whoIsIn(progress, ins, outs);
}

async function notVoted(ctx, poll, board) {
  if (poll.status !== "open" || !board.not_voted?.length) return null;
  const names = await Promise.all(board.not_voted.map((did) => nameOf(ctx, did)));
  return h("p", { class: "hint", "data-testid": "not-voted" }, `Not voted yet (${names.length}): ${names.sort((a, b) => a.localeCompare(b)).join(", ")}`);
}

function ballotControls(poll, current) {
  const spec = poll.spec;
  const options = poll.options;
  const name = `vote-${poll.poll}`;
  if (spec.kind === "meeting") return meetingControls(poll, name, current);
  if (spec.kind === "count") return countControls(poll, current);
  if (SINGLE.has(spec.kind) || spec.kind === "multiple") {
    const type = spec.kind === "multiple" ? "checkbox" : "radio";
    const controls = options.map((option, i) => {
      const id = `${name}-${i}`;
      const checked = Boolean(current && current.includes(i));
      return h("div", { class: "check" }, h("input", { type, id, name, value: String(i), checked }), h("label", { for: id }, option));
    });
    const hint = spec.kind === "multiple" ? `Choose ${spec.min_choices} to ${spec.max_choices}.` : "Choose one.";
    return {
      nodes: [h("p", { class: "hint" }, hint), controls],
      read: (form) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((el) => Number(el.value)),
    };
  }
  if (spec.kind === "ranked") {
    const ranks = [["", "not ranked"], ...options.map((_, i) => [String(i + 1), `${i + 1}`])];
    const controls = options.map((option, i) => field(option, { name: `${name}-${i}` }, { as: "select", options: ranks }));
    // Her current ranking, shown as she left it.
    (current || []).forEach((option, n) => {
      const select = controls[option]?.querySelector("select");
      if (select) select.value = String(n + 1);
    });
    return {
      nodes: [h("p", { class: "hint" }, "Number the options you want, 1 for your first preference."), controls],
      read: (form) =>
        options
          .map((_, i) => [Number(form[`${name}-${i}`].value), i])
          .filter(([rank]) => rank > 0)
          .sort((a, b) => a[0] - b[0])
          .map(([, i]) => i),
    };
  }
  const max = spec.kind === "score" ? spec.max_score : spec.dots;
  const hint = spec.kind === "score" ? `Give each option 0 to ${max}.` : `Spread up to ${max} dots.`;
  const controls = options.map((option, i) => field(option, { name: `${name}-${i}`, type: "number", min: 0, max, value: current?.[i] ?? 0, inputmode: "numeric" }));
  return {
    nodes: [h("p", { class: "hint" }, hint), controls],
    read: (form) => options.map((_, i) => Number(form[`${name}-${i}`].value || 0)),
  };
}

/** For each time of a meeting poll, can she come: yes, if need be, or not (her last answer, else not). */
function meetingControls(poll, name, current) {
  const slots = poll.options.map((option, i) => h("fieldset", { class: "slot" }, h("legend", {}, optionText(poll, option)),
    ANSWERS.map((answer) => {
      const id = `${name}-${i}-${answer.value}`;
      const checked = (current?.[i] ?? 0) === answer.value;
      return h("div", { class: "check" }, h("input", { type: "radio", id, name: `${name}-${i}`, value: String(answer.value), checked }), h("label", { for: id }, answer.label));
    })));
  return {
    legend: "When can you come?",
    nodes: [h("p", { class: "hint" }, `Times in your time zone (${timeZone()}).`), slots],
    read: (form) => poll.options.map((_, i) => Number(form.querySelector(`input[name="${name}-${i}"]:checked`)?.value ?? 0)),
  };
}

/** A count poll's two answers, each a button that signs it at once: "I'm in" or "I'm out". Her
 * current answer is the quieter button (she may still press it again). */
function countControls(poll, current) {
  const said = current?.[0];
  const button = (value, label) => h("button", { type: "submit", name: "count", value: String(value), class: said === value ? "secondary" : null }, label);
  return {
    legend: "Are you in?",
    nodes: [h("p", { class: "hint" }, `${poll.spec.target} needed. You may change your answer until the poll closes.`)],
    // Her answer is the button she presses, which signs it: in place of the form's "cast my vote".
    buttons: h("div", { class: "actions count-answers" }, button(IN, "I'm in"), button(OUT, "I'm out")),
    read: (_form, submitter) => (submitter?.name === "count" ? [Number(submitter.value)] : []),
  };
}

async function pollScreen(ctx, id) {
  const { session, app } = ctx;
  const base = `/polls/${encodeURIComponent(id)}`;
  const fetchedAt = Date.now(); // what this drawing shows: every ballot cast before it fetched
  const [poll, results, board, delegations] = await Promise.all([
    session.get(base),
    session.get(`${base}/results`),
    session.get(`${base}/board`),
    session.get("/delegations").catch(() => ({ delegations: [] })),
  ]);
  const represented = proxiesFor(delegations.delegations, app.keys.did, poll.poll);
  const mine = board.ballots.find((b) => b.voter === app.keys.did);
  const out = h("div", { "aria-live": "polite" });
  const parts = [
    h("h1", {}, poll.spec.title),
    poll.spec.description ? h("p", { class: "lead" }, poll.spec.description) : null,
    await discussedIn(ctx, poll.spec.discussion),
    h("p", {}, h("span", { class: "badge" }, poll.status), ` ${poll.closed_at ? `Closed ${when(poll.closed_at)}` : `Closes ${when(poll.closes_at)}`} · ${results.voted} of ${results.eligible} voted (${results.turnout_pct}%)${results.delegated ? `, ${results.delegated} by proxy` : ""}`),
  ];
  if (mine) {
    const chosen = mine.choice ? stanceText(poll, mine.choice) : `tracker ${mine.tracker}`;
    parts.push(h("p", { class: "card", "data-testid": "my-ballot" }, "Your ballot is on the public board: ", h("strong", {}, chosen), poll.status === "open" ? ". You may change it until the poll closes." : "."));
  }
  parts.push(await whoIsInCard(ctx, poll, board, results)); // how far from the target, before she answers
  const secret = Boolean(poll.spec.secret);
  // Trustees lead while the key is made and the count waits for them; once decided, the result does.
  const trustees = secret ? await trusteeCard(ctx, poll, results, () => pollScreen(ctx, id)) : null;
  if (!results.result) parts.push(trustees);
  if (poll.status === "open" && secret && !poll.public_key) {
    parts.push(h("p", { class: "card" }, "This poll uses a secret ballot; voting starts once its trustees have made the poll's key."));
  } else if (poll.status === "open") {
    // An open ballot is on the board: her current vote fills the form (which votes for herself first).
    const controls = ballotControls(poll, !secret ? mine?.choice : null);
    const submit = controls.buttons ? null : h("button", { type: "submit" }, mine ? "Change my vote" : "Sign and cast my vote");
    const names = await Promise.all(represented.map(async (d) => [d.delegator, await nameOf(ctx, d.delegator)]));
    const onBehalf = represented.length
      ? field("Vote for", { name: "behalf" }, { as: "select", options: [["", "myself"], ...names.map(([did, name]) => [did, `${name} (as proxy)`])],
          hint: "Members who delegated to you; their own vote, if they cast one, always wins." })
      : null;
    const reason = secret ? null : field("Your reason (optional)", { name: "reason", rows: 2, maxlength: 2000 },
      { as: "textarea", hint: "Shown with your vote, and signed with it." });
    const form = h("form", { class: "card" }, onBehalf, h("fieldset", { class: "options" }, h("legend", {}, controls.legend ?? "Your vote"), controls.nodes), reason, controls.buttons ?? submit, out);
    if (reason && mine?.reason) form.reason.value = mine.reason;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const pressed = submit ?? event.submitter ?? form.querySelector('button[type="submit"]');
      busy(pressed, async () => {
        const choice = controls.read(form, event.submitter);
        const kind = poll.spec.kind;
        // Checked here in words before anything is signed; the service checks again.
        if (SINGLE.has(kind) && choice.length !== 1) throw Object.assign(new Error("Choose one option first."), { type: "invalid_choice" });
        if (kind === "multiple" && (choice.length < poll.spec.min_choices || choice.length > poll.spec.max_choices)) {
          throw Object.assign(new Error(`Choose ${poll.spec.min_choices === poll.spec.max_choices ? poll.spec.min_choices : `${poll.spec.min_choices} to ${poll.spec.max_choices}`} options.`), { type: "invalid_choice" });
        }
        if (kind === "count" && choice.length !== 1) throw Object.assign(new Error("Press “I'm in” or “I'm out”."), { type: "invalid_choice" });
        if (kind === "ranked" && !choice.length) throw Object.assign(new Error("Number at least one option, 1 for your first preference."), { type: "invalid_choice" });
        const body = { poll: poll.poll };
        const voter = form.behalf?.value || app.keys.did;
        if (voter !== app.keys.did) body.on_behalf_of = voter;
        if (secret) {
          // Encrypted here for the poll's trustees, with proofs that it is a valid vote.
          const votes = voteVector(poll.spec, poll.options, choice);
          const made = await encryptBallot({ pollId: poll.crypto_poll_id, publicKey: poll.public_key, rules: poll.ballot_rules }, voter, votes);
          body.ballot = made.ballot;
        } else {
          body.choice = choice;
          const why = form.reason.value.trim();
          if (why) body.reason = why;
        }
        await session.act(`${base}/ballots`, "governance.cast_ballot", body);
        toast(body.on_behalf_of ? "Your proxy vote is signed and counted." : "Your vote is signed and counted.");

        await pollScreen(ctx, id);
      }, out);
    });
    parts.push(form);
  }
  if (poll.status === "open" && poll.author === app.keys.did) {
    const close = h("button", { type: "button", class: "secondary" }, "Close the poll now");
    const closing = h("div", { "aria-live": "polite" });
    close.addEventListener("click", () => busy(close, async () => {
      if (!confirm("Close this poll now and count the votes?")) return;
      await session.act(`${base}/acts/close_poll`, "governance.close_poll", { poll: poll.poll });
      toast("Closed and counted.");
      await pollScreen(ctx, id);
    }, closing));
    // Her poll may stay open longer: by whole days from its current close.
    const days = field("Extend by (days)", { name: "days", type: "number", min: 1, max: 90, value: 3, inputmode: "numeric" });
    const extend = h("button", { type: "submit", class: "secondary" }, "Sign and extend");
    const extending = h("form", { class: "row", "aria-label": "Extend the poll" }, days, extend);
    extending.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(extend, async () => {
        const more = Number(extending.days.value);
        if (!(more >= 1 && more <= 90)) throw new ApiError(0, "invalid_extension", "Extend by 1 to 90 days.");
        const closes = new Date(new Date(poll.closes_at).getTime() + more * 24 * 3600 * 1000);
        await session.act(`${base}/acts/extend_poll`, "governance.extend_poll", { poll: poll.poll, closes_at: formatDatetime(closes) });
        toast(`Open until ${when(formatDatetime(closes))}.`);
        await pollScreen(ctx, id);
      }, closing);
    });
    parts.push(h("div", { class: "card" }, close, extending, closing));
  }
  if (results.result) {
    parts.push(outcomeCard(ctx, poll, results, () => pollScreen(ctx, id)));  // the group's words first
    parts.push(resultView(results.result, poll), trustees);
  }
  parts.push(await whoCanCome(ctx, poll, board, results.result), await notVoted(ctx, poll, board), await positions(ctx, poll, board));
  if (board.secret) parts.push(trackerLookup(board));
  parts.push(h("p", {}, h("a", { href: "#/polls" }, "All polls")));
  ctx.render(parts);
  // Ballots others cast (`ballot_cast`, sent to every member: the board is public) redraw the board,
  // turnout, who can come and who has not voted yet: a burst of them once, when it settles (a steady
  // stream at most every few seconds), and not while she fills a form (then once she is done). The
  // state lives on this screen's navigation, so a drawing from any cause (her own vote too) counts.
  if (!ctx.pollBallots) {
    ctx.pollBallots = { timer: 0, first: 0, last: 0, shown: 0, drawing: false };
    ctx.signal.addEventListener("abort", () => clearTimeout(ctx.pollBallots.timer), { once: true });
  }
  const ballots = ctx.pollBallots;
  ballots.shown = Math.max(ballots.shown, fetchedAt);
  const SETTLE_MS = 700, MOST_MS = 3000, RETRY_MS = 1500;
  const inForm = () => document.activeElement?.closest?.("form") || document.querySelector('[aria-busy="true"]');
  const redrawForBallots = async () => {
    ballots.timer = 0;
    if (!ctx.isCurrent()) return;
    if (ballots.shown >= ballots.last) { // drawn (by anything) since the last ballot came
      ballots.first = 0;
      return;
    }
    if (inForm() || ballots.drawing) {
      ballots.timer = setTimeout(redrawForBallots, RETRY_MS);
      return;
    }
    ballots.first = 0;
    ballots.drawing = true;
    // Not a navigation: she stays where she was reading (a drawing focuses the heading and scrolls to it).
    const [x, y, idle] = [window.scrollX, window.scrollY, !document.activeElement || document.activeElement === document.body];
    try {
      await pollScreen(ctx, id);
      if (ctx.isCurrent()) {
        window.scrollTo(x, y);
        if (idle) document.activeElement?.blur?.();
      }
    } catch (error) {
      console.warn("poll refresh", error);
    } finally {
      ballots.drawing = false;
    }
  };
  const ballotCast = () => {
    ballots.last = Date.now();
    ballots.first ||= ballots.last;
    if (ballots.timer && inForm()) return; // already waiting for her to finish
    clearTimeout(ballots.timer);
    ballots.timer = setTimeout(redrawForBallots, Math.max(0, Math.min(SETTLE_MS, ballots.first + MOST_MS - ballots.last)));
  };
  // Governance's notices about this poll (opened, a trustee's part made or count decrypted, the
  // result, the outcome stated or corrected) redraw it; while she fills a form on it, once she is
  // done. What this drawing shows is kept on the navigation, so a later look compares with the newest.
  const stage = (p) => JSON.stringify([p.status, p.trustees_committed, p.partial_decryptions, p.complaints, Boolean(p.result), p.outcome, p.meeting]);
  ctx.pollDrawn = { stage: stage(poll), voted: results.voted };
  if (!ctx.pollNews) {
    ctx.pollNews = { timer: 0 };
    ctx.signal.addEventListener("abort", () => clearTimeout(ctx.pollNews.timer), { once: true });
  }
  const news = async (ballotsToo = false) => {
    clearTimeout(ctx.pollNews.timer);
    if (!ctx.isCurrent()) return;
    if (inForm()) {
      ctx.pollNews.timer = setTimeout(() => news(ballotsToo), RETRY_MS);
      return;
    }
    try {
      // Her own act has already redrawn the screen: only what others changed redraws it again.
      const [now, counted] = await Promise.all([session.get(base), ballotsToo ? session.get(`${base}/results`) : null]);
      if (!ctx.isCurrent()) return;
      if (stage(now) !== ctx.pollDrawn.stage) await pollScreen(ctx, id);
      else if (counted && counted.voted !== ctx.pollDrawn.voted) ballotCast();
    } catch (error) {
      console.warn("poll refresh", error);
    }
  };
  listen(ctx, async (kind, notice) => {
    if (notice.service !== "governance" || notice.poll !== poll.poll || kind === "reminder") return;
    if (kind === "ballot_cast") {
      if (notice.cast_by !== app.keys.did) ballotCast(); // her own vote has redrawn the screen already
      return;
    }
    await news();
  }, () => news(true)); // the stream (re)opened: anything missed before it did
}

/** A secret poll's trustees, for everyone: who has made the key, who has counted. For a trustee,
 * her part: commit to her share of the poll's key (the poll opens when all have), check the shares
 * dealt to her, and after the close decrypt her share of the count. All of it is computed here and
 * signed with her key; nothing is kept in this browser in between. */
async function trusteeCard(ctx, poll, results, reload) {
  const { session, app } = ctx;
  const { trustees, threshold } = poll.spec.secret;
  const me = trusteeIndex(poll, app.keys.did);
  const out = h("div", { "aria-live": "polite" });
  const act = (name, body) => session.act(`/polls/${encodeURIComponent(poll.poll)}/acts/${name}`, `governance.${name}`, body);
  const counting = Boolean(poll.encrypted_tally) && !results.result;
  const names = await Promise.all(trustees.map((did) => nameOf(ctx, did)));
  const state = (i) => {
    if (poll.status === "created") return poll.trustees_committed.includes(i) ? "key part made" : "waiting";
    if (counting || results.result) return poll.partial_decryptions.includes(i) ? "counted" : counting ? "waiting" : "";
    return "key part made";
  };
  const list = h("ul", { class: "plain", "data-testid": "trustees" }, names.map((name, k) => {
    const said = state(k + 1);
    return h("li", {}, `${k + 1}. ${name}${k + 1 === me ? " (you)" : ""}`, said ? [" ", h("span", { class: "badge" }, said)] : null);
  }));
  let lead;
  if (poll.status === "created") lead = `Voting opens once all ${trustees.length} trustees have made their part of the poll's key (${poll.trustees_committed.length} so far).`;
  else if (counting) lead = `Closed: ${threshold} of the ${trustees.length} trustees must each decrypt their share of the total before the result is known (${poll.partial_decryptions.length} so far). No one ever decrypts a single ballot.`;
  else lead = `Ballots are encrypted to a key that only ${threshold} of these ${trustees.length} trustees together can use, and only on the total.`;
  const parts = [h("h2", {}, "Trustees"), h("p", {}, lead), list];
  if (me && poll.status === "created" && !poll.trustees_committed.includes(me)) {
    parts.push(h("p", { class: "hint" }, "Your part is made from your own key: you need nothing else to count later, not even this device."),
      actionButton("Sign and make my part of the key", async () => {
        const body = await dealAsTrustee(app.keys, poll);
        const done = await act("commit_trustee", body);
        toast(done.status === "open" ? "Your part is signed: the poll's key is made and voting is open." : "Your part of the key is signed.");
      }, out, { after: reload, primary: true }));
  }
  parts.push(...complaintsPart({ poll, me, names, keys: app.keys, act, out, reload }));
  // Her key from the shares dealt to her; a false one is answered with the offer to complain of it.
  const myKey = async () => {
    try {
      return await trusteeKey(app.keys, await ctx.x25519(), poll);
    } catch (error) {
      if (offerComplaint({ error, poll, me, act, out, reload })) return null;
      throw error;
    }
  };
  if (me && poll.public_key && !counting && !results.result) {
    parts.push(actionButton("Check the shares dealt to me", async () => {
      if (!(await myKey())) return;
      out.replaceChildren(h("p", { class: "notice", "data-testid": "shares-checked" }, `All ${trustees.length - 1} shares dealt to you match their public commitments: you can count.`));
    }, out));
  }
  if (me && counting && !poll.partial_decryptions.includes(me)) {
    parts.push(actionButton("Sign and decrypt my share of the count", async () => {
      const key = await myKey();
      if (!key) return;
      const done = await act("submit_partial_decryption", { poll: poll.poll, partial: await partialDecryption(key, poll) });
      toast(done.result ? "Your share is signed: the result is known." : "Your share of the count is signed.");
    }, out, { after: reload, primary: true }));
  }
  parts.push(out);
  return h("section", { class: "card", "aria-label": "Trustees" }, parts);
}

/** What the group decided, in its author's words (Loomio's outcome): shown above everything once
 * stated; until then the author is offered the form, signed like every act, and after it she may
 * correct it (the correction is signed too; the first statement stays in the log). */
function outcomeCard(ctx, poll, results, reload) {
  const author = poll.author === ctx.app.keys.did;
  if (!results.outcome) return author ? outcomeForm(ctx, poll, results, reload) : null;
  return h("section", { class: "card", "aria-label": "Outcome" }, h("h2", {}, "Outcome"),
    h("p", { class: "plain-text", "data-testid": "outcome-statement" }, results.outcome),
    poll.meeting ? meetingLine(ctx, poll) : null,
    author ? h("details", { class: "tools" }, h("summary", {}, "Correct the outcome"), outcomeForm(ctx, poll, results, reload)) : null);
}

/** The author's outcome, or her correction of it; a meeting poll's also fixes the time and place. */
function outcomeForm(ctx, poll, results, reload) {
  const correcting = Boolean(results.outcome);
  const label = correcting ? "Correct the outcome" : "State the outcome";
  const out = h("div", { "aria-live": "polite" });
  const text = field("What was decided, and what happens next", { name: "text", rows: 4, maxlength: 10000, required: true }, { as: "textarea" });
  text.querySelector("textarea").value = results.outcome ?? "";
  const submit = h("button", { type: "submit" }, correcting ? "Sign and share the correction" : "Sign and share the outcome");
  const meeting = isMeeting(poll) ? meetingChoice(poll, results.result) : null;
  const form = h("form", { class: correcting ? "edit" : "card", "aria-label": label }, correcting ? null : h("h2", {}, label), text, meeting, submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const said = form.text.value.trim();
      if (!said) throw new ApiError(0, "invalid_request", "Write the outcome first.");
      const body = { poll: poll.poll, text: said };
      if (meeting) Object.assign(body, meetingOutcome(form));
      await ctx.session.act(`/polls/${encodeURIComponent(poll.poll)}/acts/state_outcome`, "governance.state_outcome", body);
      toast(correcting ? "Outcome corrected." : "Outcome shared.");
      await reload();
    }, out);
  });
  return form;
}

/** The meeting's time and place, for a meeting poll's outcome: the time fixed already if she is
 * correcting it, else the first best one; each time with how many can come. */
function meetingChoice(poll, result) {
  const coming = (option) => count(result?.totals?.[option] ?? 0, "person", "people");
  const time = field("Meeting time", { name: "meeting_time" }, { as: "select", hint: `In your time zone (${timeZone()}).`,
    options: [["", "No time: the meeting does not take place"], ...poll.options.map((option, i) => [String(i), `${optionText(poll, option)} (${coming(option)} can come)`])] });
  const chosen = poll.options.indexOf(poll.meeting ? poll.meeting.start : result?.winners?.[0]);
  time.querySelector("select").value = chosen >= 0 ? String(chosen) : "";
  const place = field("Where (optional)", { name: "meeting_place", maxlength: 300, autocomplete: "off", value: poll.meeting?.location ?? "" },
    { hint: "An address, a room, or a link to join." });
  return h("div", {}, time, place);
}

/** The `slot` and `location` of a meeting poll's outcome, as the form gives them. */
function meetingOutcome(form) {
  const slot = form.meeting_time.value;
  const location = form.meeting_place.value.trim();
  if (!slot && location) throw new ApiError(0, "invalid_request", "Choose the meeting's time, or leave the place empty.");
  return { ...(slot ? { slot: Number(slot) } : {}), ...(location ? { location } : {}) };
}

/** A meeting poll's times: date-and-time inputs in her own time zone, at least two, and its length. */
function meetingTimes() {
  const list = h("ol", { class: "list times" });
  const renumber = () => [...list.children].forEach((item, i, all) => {
    item.querySelector("label").textContent = `Time ${i + 1}`;
    const remove = item.querySelector("button");
    remove.setAttribute("aria-label", `Remove time ${i + 1}`);
    remove.disabled = all.length <= 2;
  });
  const row = (value = "") => {
    const remove = h("button", { type: "button", class: "secondary" }, "Remove");
    const item = h("li", { class: "time" }, field("Time", { name: "time", type: "datetime-local", value }), remove);
    remove.addEventListener("click", () => {
      const next = item.nextElementSibling ?? item.previousElementSibling;
      item.remove();
      renumber();
      next?.querySelector("input")?.focus();
    });
    return item;
  };
  const add = h("button", { type: "button", class: "secondary" }, "Add a time");
  add.addEventListener("click", () => {
    // A new time starts as the day after the last one, at the same hour: the usual next choice.
    const last = [...list.querySelectorAll("input")].pop()?.value;
    const next = last ? new Date(last) : null;
    next?.setDate(next.getDate() + 1);
    const item = row(next && !Number.isNaN(next.getTime()) ? localInput(next) : "");
    list.append(item);
    renumber();
    item.querySelector("input").focus();
  });
  list.append(row(), row());
  renumber();
  return h("fieldset", { class: "times", hidden: true }, h("legend", {}, "Times to choose from"),
    h("p", { class: "hint" }, `In your time zone (${timeZone()}). Give at least two.`), list, h("div", { class: "actions" }, add),
    field("Length (minutes)", { name: "duration", type: "number", min: 5, max: 1440, value: 60, inputmode: "numeric" }));
}

/** A date as a date-and-time input shows it, in her time zone ("2026-12-03T18:00"). */
function localInput(date) {
  const two = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** A meeting poll's options and length from the form: each time as an instant (UTC), earliest first. */
function meetingSpec(form, bad) {
  const times = [...form.querySelectorAll('input[name="time"]')].map((input) => input.value);
  if (times.some((t) => !t)) throw bad("Give each time a date and an hour, or remove it.");
  const starts = times.map((t) => new Date(t)).sort((a, b) => a - b);
  if (starts.some((d) => Number.isNaN(d.getTime()))) throw bad("One of the times is not a date.");
  const options = starts.map(formatDatetime);
  if (options.length < 2) throw bad("Give at least two times.");
  if (options.length > 64) throw bad("Give at most 64 times.");
  if (new Set(options).size !== options.length) throw bad("Two of the times are the same: change or remove one.");
  const minutes = Number(form.duration.value);
  if (!(Number.isInteger(minutes) && minutes >= 5 && minutes <= 1440)) throw bad("A meeting lasts 5 to 1440 minutes.");
  return { options, duration_min: minutes };
}

/** A count poll's target (how many must be in) and whether it closes as soon as that many are. */
function countTarget() {
  const id = "poll-close_at_target";
  return h("fieldset", { class: "count-target", hidden: true }, h("legend", {}, "Target"),
    field("How many need to be in", { name: "count_target", type: "number", min: 1, max: 100000, inputmode: "numeric" },
      { hint: "The poll succeeds when at least this many members say they are in." }),
    h("div", { class: "check" }, h("input", { type: "checkbox", id, name: "close_at_target" }), h("label", { for: id }, "Close as soon as the target is reached")));
}

/** A count poll's target and early close from the form. */
function countSpec(form, bad) {
  const target = Number(form.count_target.value);
  if (!form.count_target.value.trim() || !Number.isInteger(target) || target < 1 || target > 100000) {
    throw bad("Say how many need to be in: a whole number from 1 to 100000.");
  }
  return { target, ...(form.close_at_target.checked ? { close_early: "target_reached" } : {}) };
}

/** The form that starts a poll; `preset` fills it in for a poll started from a Discuss thread
 * (`title`, the `discussion` link, and the thread's title to say where it belongs). */
function newPollForm(ctx, done, preset = {}) {
  const out = h("div", { "aria-live": "polite" });
  const title = field("Question", { name: "title", required: true, maxlength: 300, value: preset.title ?? "" });
  const description = field("Details", { name: "description", rows: 3 }, { as: "textarea" });
  const kind = field("Kind", { name: "kind" }, { as: "select", options: [["single", "Pick one option"], ["multiple", "Pick several options"], ["proposal", "Proposal (agree / abstain / disagree / block)"], ["consent", "Consent (consent / object)"], ["ranked", "Rank the options"], ["score", "Score each option"], ["dot", "Spread dots over the options"], ["meeting", "Find a time for a meeting"], ["count", "Count (who is in)"]] });
  const options = field("Options, one per line", { name: "options", rows: 4 }, { as: "textarea", hint: "Not needed for proposals and consent." });
  const times = meetingTimes();
  const target = countTarget();
  const days = field("Open for (days)", { name: "days", type: "number", min: 1, max: 90, value: 7, inputmode: "numeric" });
  // The rules a facilitator sets (Loomio's poll settings); each is checked again by the service.
  const number = (label, name, value, min, max, hint = "") => field(label, { name, type: "number", min, max, value, inputmode: "numeric" }, { hint });
  const check = (label, name, checked) => {
    const id = `poll-${name}`;
    return h("div", { class: "check" }, h("input", { type: "checkbox", id, name, checked }), h("label", { for: id }, label));
  };
  const more = h("details", { class: "settings" }, h("summary", {}, "More settings"),
    field("Opens (empty: now)", { name: "opens", type: "datetime-local" }),
    number("Quorum (% of members who must vote)", "quorum", 0, 0, 100),
    number("Pass threshold (%)", "threshold", 50, 0, 99, "Proposal: agree must exceed this share of agree + disagree. One option: the winner must exceed this share of ballots (0: most votes wins)."),
    check("A single block fails a proposal", "block_fails", true),
    field("Ranked count", { name: "method" }, { as: "select", options: [["irv", "Instant runoff"], ["schulze", "Schulze (Condorcet)"]] }),
    number("Pick at least", "min_choices", 1, 0, 50, "Several options: how many each member picks."),
    number("Pick at most (empty: all)", "max_choices", "", 1, 50),
    number("Highest score", "max_score", 5, 1, 10),
    number("Dots per member", "dots", 10, 1, 1000),
    field("Remind those who have not voted (hours before the close)", { name: "reminders", autocomplete: "off", placeholder: "24, 2" }),
    check("Close as soon as everyone has voted", "close_early", false),
    check("I may close it early", "author_may_close", true),
    field("Discussion link", { name: "discussion", autocomplete: "off", placeholder: "https://… or #/forums?thread=…", value: preset.discussion ?? "" }));
  // A secret ballot: encrypted in each voter's browser, added up encrypted, and only the total
  // decrypted, by `threshold` of the trustees chosen here (each with her own key, in her own app).
  const trusteeList = h("div", { "data-testid": "trustee-picker" }, h("p", { class: "hint" }, "Loading members…"));
  const trusteePicker = h("fieldset", { hidden: true },
    h("legend", {}, "Trustees"),
    h("p", { class: "hint" }, "Members who will each make part of the poll's key and, after the close, decrypt their share of the total. Choose people who will be there for the count."),
    trusteeList,
    number("Trustees needed to count", "trustee_threshold", 2, 1, 16, "Fewer than this many can never decrypt anything; this many together decrypt only the total."));
  const secretBox = check("Secret ballot: no one, not even the admins, sees how anyone voted", "secret", false);
  let loaded = false;
  secretBox.querySelector("input").addEventListener("change", async (event) => {
    trusteePicker.hidden = !event.target.checked;
    if (!event.target.checked || loaded) return;
    loaded = true;
    const directory = await ctx.session.get("/directory?status=active").catch(() => ({ members: [] }));
    const people = directory.members.filter((m) => m.did);
    const me = ctx.app.keys.did;
    trusteeList.replaceChildren(...checkboxes("trustee", people.map((m) => [m.did, m.did === me ? `${m.name} (you)` : m.name, m.did === me])));
  });
  // A meeting poll asks for times instead of options, a count poll for its target; neither is ever
  // secret: who can come when, and who is in, are what the group needs to see.
  kind.querySelector("select").addEventListener("change", (event) => {
    const meeting = event.target.value === "meeting";
    const counting = event.target.value === "count";
    options.hidden = meeting || counting;
    times.hidden = !meeting;
    target.hidden = !counting;
    secretBox.hidden = meeting || counting;
    if (meeting || counting) {
      secretBox.querySelector("input").checked = false;
      trusteePicker.hidden = true;
    }
  });
  const submit = h("button", { type: "submit" }, "Sign and start the poll");
  const where = preset.threadTitle
    ? h("p", { class: "hint", "data-testid": "poll-thread" }, "In the thread ", h("a", { href: preset.discussion }, preset.threadTitle), ": its members find the poll there.")
    : null;
  const form = h("form", { class: "card", "aria-label": "Start a poll" }, h("h2", {}, "Start a poll"), where, title, description, kind, options, times, target, days, secretBox, trusteePicker, more, submit, out);
  const bad = (message) => new ApiError(0, "invalid_poll", message);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const k = form.kind.value;
      const fixed = ["proposal", "consent", "count"].includes(k);
      const spec = { kind: k, title: form.title.value.trim(), description: form.description.value.trim() };
      if (k === "meeting") Object.assign(spec, meetingSpec(form, bad));
      else if (k === "count") Object.assign(spec, countSpec(form, bad));
      else if (!fixed) spec.options = form.options.value.split("\n").map((o) => o.trim()).filter(Boolean);
      if (!fixed && spec.options.length < 2) throw bad("Give at least two options, one per line.");
      const int = (name) => Number.parseInt(form[name].value, 10);
      spec.quorum_pct = int("quorum") || 0;
      if (k === "proposal" || k === "single" || k === "multiple") spec.threshold_pct = Number.isNaN(int("threshold")) ? 50 : int("threshold");
      if (k === "proposal") spec.block_fails = form.block_fails.checked;
      if (k === "ranked") spec.method = form.method.value;
      if (k === "multiple") {
        spec.min_choices = Number.isNaN(int("min_choices")) ? 1 : int("min_choices");
        spec.max_choices = Number.isNaN(int("max_choices")) ? spec.options.length : int("max_choices");
      }
      if (k === "score") spec.max_score = int("max_score") || 5;
      if (k === "dot") spec.dots = int("dots") || 10;
      const reminders = form.reminders.value.split(/[\s,]+/).filter(Boolean).map(Number);
      if (reminders.some((r) => !Number.isInteger(r) || r <= 0)) throw bad("Reminders are whole hours before the close, such as 24, 2.");
      if (reminders.length) spec.reminders_h = [...new Set(reminders)].sort((a, b) => b - a);
      if (form.close_early.checked) {
        if (spec.close_early) throw bad("Close early either when everyone has voted or when the target is reached, not both.");
        spec.close_early = "all_voted";
      }
      spec.author_may_close = form.author_may_close.checked;
      const link = form.discussion.value.trim();
      if (link && !safeLink(link)) throw bad("The discussion link starts with https:// or #/.");
      if (link) spec.discussion = link;
      if (form.secret.checked) {
        const chosen = ticked(form, "trustee");
        const needed = int("trustee_threshold");
        if (k === "ranked") throw bad("Ranked ballots cannot be added up encrypted: make this an open poll, or choose another kind.");
        if (k === "meeting") throw bad("A meeting poll shows who can come when, so it cannot be secret: make this an open poll.");
        if (k === "count") throw bad("A count poll shows who is in, so it cannot be secret: make this an open poll.");
        if (!chosen.length || chosen.length > 16) throw bad("Choose 1 to 16 trustees for a secret ballot.");
        if (!(needed >= 1 && needed <= chosen.length)) throw bad(`Trustees needed to count: 1 to ${chosen.length}.`);
        spec.secret = { trustees: chosen, threshold: needed };
      }
      const body = { spec };
      const opens = form.opens.value ? new Date(form.opens.value) : null;
      if (opens && Number.isNaN(opens.getTime())) throw bad("The opening time is not a date.");
      const start = opens && opens.getTime() > Date.now() ? opens : new Date();
      if (opens && opens.getTime() > Date.now()) body.opens_at = formatDatetime(opens);
      body.closes_at = formatDatetime(new Date(start.getTime() + Number(form.days.value || 7) * 24 * 3600 * 1000));
      const created = await ctx.session.act("/polls", "governance.create_poll", body);
      toast(created.status === "open" ? "Poll started." : spec.secret ? "Poll created: it opens once its trustees have made its key." : "Poll scheduled.");
      done(created.poll);
    }, out);
  });
  return form;
}

/** A poll started from a Discuss thread (`#/polls?new=1&thread=<id>`): the form with the thread's
 * title as its question and the thread as its discussion; once signed, back to the thread, which lists it. */
async function threadPollScreen(ctx, id) {
  const thread = await ctx.session.get(`${MSG}/threads/${encodeURIComponent(id)}`);
  const back = `/forums?thread=${encodeURIComponent(id)}`;
  ctx.render(
    h("h1", {}, "Start a poll in this thread"),
    newPollForm(ctx, () => ctx.go(back), { title: thread.title, discussion: threadLink(id), threadTitle: thread.title }),
    h("p", {}, h("a", { href: `#${back}` }, "Back to the thread")),
  );
}

/** Secret polls waiting for her as trustee, with what she is to do. */
function trusteeTurns(ctx, listed) {
  const did = ctx.app.keys.did;
  return listed.filter((p) => (p.trustees_to_act ?? []).includes(did) || (p.to_reveal ?? []).includes(did))
    .map((p) => [p, (p.to_reveal ?? []).includes(did) ? "Reveal a share you dealt"
      : p.status === "created" ? "Make your part of the key" : "Decrypt your share of the count"]);
}

const polls = {
  id: "polls",
  title: "Polls",
  route: "/polls",
  available: (paths) => serves(paths, ["/c/{community}/polls"]),
  async summary(ctx) {
    const listed = await ctx.session.get("/polls").catch(() => ({ polls: [] }));
    const open = listed.polls.filter((p) => p.status === "open");
    const turn = trusteeTurns(ctx, listed.polls);
    return h("section", { class: "card" }, h("h2", {}, "Polls"),
      turn.length
        ? h("ul", { class: "plain", "aria-label": "Waiting for you as trustee", "data-testid": "trustee-turns" }, turn.map(([p, what]) =>
            h("li", {}, h("strong", {}, `${what}: `), h("a", { href: `#/polls?poll=${encodeURIComponent(p.poll)}` }, p.title))))
        : null,
      open.length
        ? h("ul", { class: "plain" }, open.slice(0, 3).map((p) => h("li", {}, h("a", { href: `#/polls?poll=${encodeURIComponent(p.poll)}` }, p.title))))
        : h("p", {}, "No open polls."),
      h("a", { href: "#/polls" }, "All polls"));
  },
  async screen(params, ctx) {
    const id = params.get("poll");
    if (id) return pollScreen(ctx, id);
    const thread = params.get("thread");
    if (params.get("new") && thread && THREAD_ID.test(thread)) return threadPollScreen(ctx, thread);
    const listed = await ctx.session.get("/polls");
    const row = (p) => h("li", { class: "member" }, h("a", { href: `#/polls?poll=${encodeURIComponent(p.poll)}` }, h("strong", {}, p.title)), " ",
      h("span", { class: "badge" }, p.status), p.secret ? h("span", { class: "badge" }, "secret") : null,
      [...(p.trustees_to_act ?? []), ...(p.to_reveal ?? [])].includes(ctx.app.keys.did) ? h("span", { class: "badge" }, "your turn as trustee") : null,
      h("div", { class: "hint" }, pollWhen(p)));
    const open = listed.polls.filter((p) => p.status === "open");
    const waiting = listed.polls.filter((p) => p.status === "created");
    const other = listed.polls.filter((p) => !["open", "created"].includes(p.status));
    ctx.render(
      h("h1", {}, "Polls"),
      h("h2", {}, "Open"),
      open.length ? h("ul", { class: "list" }, open.map(row)) : h("p", { class: "card" }, "No open polls."),
      waiting.length ? [h("h2", {}, "Not open yet"), h("ul", { class: "list" }, waiting.map(row))] : null,
      other.length ? [h("h2", {}, "Earlier"), h("ul", { class: "list" }, other.map(row))] : null,
      newPollForm(ctx, (poll) => ctx.go(`/polls?poll=${encodeURIComponent(poll)}`)),
    );
  },
};

// -- Know: the assistant over the community's own documents ---------------------------------

function answerView(answer) {
  const passages = new Map(answer.passages.map((p) => [p.n, p]));
  const cite = (n) => {
    const p = passages.get(n);
    // Not a hash link: the address belongs to the router. The source is scrolled to and focused.
    const show = (event) => {
      event.preventDefault();
      const source = event.currentTarget.closest(".answer")?.querySelector(`[data-passage="${n}"]`);
      if (!source) return;
      source.scrollIntoView({ block: "nearest" });
      source.focus();
    };
    return h("a", { href: "#", role: "button", class: "cite", title: p ? p.source.title : "", "aria-label": `Source ${n}${p ? `: ${p.source.title}` : ""}`, onclick: show }, `[${n}]`);
  };
  const paragraphs = answer.answer.split(/\n\n+/).map((chunk) => {
    const quoted = chunk.startsWith("> ");
    const text = plainText(quoted ? chunk.slice(2) : chunk); // quoted sources' Markdown, as words
    const parts = text.split(/(\[\d{1,3}\])/).map((piece) => {
      const m = /^\[(\d{1,3})\]$/.exec(piece);
      return m ? cite(Number(m[1])) : piece;
    });
    return quoted ? h("blockquote", {}, parts) : h("p", {}, parts);
  });
  const used = answer.passages.filter((p) => answer.citations.includes(p.n));
  return h("section", { class: "card answer", "data-testid": "answer" },
    h("h2", {}, answer.mode === "generated" ? "Answer" : "From your community's documents"),
    paragraphs,
    used.length ? h("h3", {}, "Sources") : null,
    h("ol", { class: "sources" }, used.map((p) => h("li", { dataset: { passage: String(p.n) }, tabindex: "-1", value: p.n },
      h("strong", {}, p.source.title), p.heading ? ` — ${p.heading}` : "",
      h("div", { class: "hint" }, `signed by ${shortDid(p.source.author)} · ${p.source.citation.stream} #${p.source.citation.seq}`)))),
    answer.generation_error ? h("p", { class: "hint" }, `The answer model was unavailable (${answer.generation_error}); these are the best passages.`) : null,
  );
}

/** Who may read a document: role checkboxes (none ticked: every member). */
/** Ticked boxes named `key`, one per [value, label, checked]; read them back with ticked(). */
let checkIds = 0;
function checkboxes(key, items) {
  return items.map(([value, label, checked = false]) => {
    const id = `${key}-check-${++checkIds}`;
    return h("div", { class: "check" }, h("input", { type: "checkbox", id, name: key, value, checked }), h("label", { for: id }, label));
  });
}

function checkFieldset(legend, key, items, hint = null) {
  return h("fieldset", { class: "options" }, h("legend", {}, legend), hint ? h("p", { class: "hint" }, hint) : null, checkboxes(key, items));
}

function rolePicker(ctx, legend, key, chosen = [], hint = "None ticked: every member.") {
  const roles = ctx.app.profile?.policy?.roles || ["admin", "moderator", "member"];
  return checkFieldset(legend, key, roles.map((role) => [role, role, chosen.includes(role)]), hint);
}

function ticked(form, key) {
  return [...form.querySelectorAll(`input[name="${key}"]:checked`)].map((el) => el.value);
}

async function fileStatement(file) {
  const data = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
  return { content: btoa(binary), sha256: bytesToHex(await sha256(data)) };
}

const ACCEPT = ".md,.txt,.html,.pdf,.docx,.odt,text/plain,text/markdown,text/html,application/pdf,"
  + "application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.oasis.opendocument.text";

/** Add a document, or (given `existing`) replace its file, title and readers: a signed revision
 * whose earlier versions stay in the log. */
function documentForm(ctx, existing, done) {
  const out = h("div", { "aria-live": "polite" });
  const title = field("Title", { name: "title", required: !existing, maxlength: 300, value: existing?.title || "" });
  const file = field(existing ? "New file" : "File", { name: "file", type: "file", required: true, accept: ACCEPT },
    { hint: "Markdown, text, HTML, PDF, Word (.docx) or OpenDocument (.odt)." });
  const submit = h("button", { type: "submit" }, existing ? "Sign and replace" : "Sign and add");
  const label = existing ? `Replace ${existing.title}` : "Add a document";
  const form = h("form", { class: existing ? "edit" : "card", "aria-label": label }, existing ? null : h("h2", {}, label), title, file,
    rolePicker(ctx, "Who may read it", "read_roles", existing?.read_roles || []), submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const chosen = form.file.files[0];
      if (!chosen) throw new ApiError(0, "file_required", "Choose a file.");
      const { content, sha256: digest } = await fileStatement(chosen);
      const body = { title: form.title.value.trim() || chosen.name, filename: chosen.name, sha256: digest, read_roles: ticked(form, "read_roles") };
      // Recorded either way; `searchable` says whether the index has it yet (a long file takes a while).
      const later = " It is still being indexed: the library and the assistant show it in a moment.";
      if (existing) {
        body.document = existing.document;
        const made = await ctx.session.act("/know/documents/revise", "knowledge.revise_document", body, { content });
        toast(made.searchable === false ? `Document replaced.${later}` : "Document replaced; the assistant answers from the new version.");
      } else {
        const made = await ctx.session.act("/know/documents", "knowledge.add_document", body, { content });
        toast(made.searchable === false ? `Document added.${later}` : "Document added.");
      }
      done();
    }, out);
  });
  return form;
}

/** The library: what she may read, by whom and for whom; its author or an admin replaces or
 * deletes a document (with a reason, kept in the log). */
async function libraryCard(ctx, library, reload) {
  const names = new Map(await Promise.all(library.documents.map(async (d) => [d.author, await nameOf(ctx, d.author)])));
  const who = (roles) => (roles.length ? roles.join(", ") : "every member");
  const item = (d) => {
    const out = h("div", { "aria-live": "polite" });
    const tools = [];
    if (d.may_change) {
      const reason = field("Reason for deleting", { name: "reason", maxlength: 500, autocomplete: "off" });
      const remove = h("button", { type: "submit", class: "secondary" }, "Delete");
      const deleting = h("form", { class: "edit", "aria-label": `Delete ${d.title}` }, reason, remove, out);
      deleting.addEventListener("submit", (event) => {
        event.preventDefault();
        busy(remove, async () => {
          await ctx.session.act("/know/documents/delete", "knowledge.delete_document", { document: d.document, reason: deleting.reason.value.trim() });
          toast("Document deleted: the assistant no longer answers from it.");
          reload();
        }, out);
      });
      tools.push(h("details", {}, h("summary", {}, "Replace or delete"), documentForm(ctx, d, reload), deleting));
    }
    return h("li", { class: "member", dataset: { document: d.document } }, h("strong", {}, d.title),
      h("div", { class: "hint" }, `readable by ${who(d.read_roles)} · signed by ${names.get(d.author)} · ${new Date(d.citation.timestamp_ns / 1e6).toLocaleDateString()}`),
      tools);
  };
  return h("section", { class: "card", "aria-label": "Library" }, h("h2", {}, "Library"),
    library.documents.length ? h("ul", { class: "list", "data-testid": "library" }, library.documents.map(item)) : h("p", {}, "No documents yet."));
}

/** Admins choose which roles may add documents besides themselves. */
function librarySettings(ctx, library, reload) {
  const out = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "secondary" }, "Sign and save");
  const form = h("form", { class: "card", "aria-label": "Who may add documents" }, h("h2", {}, "Who may add documents"),
    rolePicker(ctx, "Roles that may add documents", "uploader_roles", library.uploader_roles || [], "Admins always may; none ticked: only admins."), submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      await ctx.session.act("/know/library", "knowledge.configure_library", { uploader_roles: ticked(form, "uploader_roles") });
      toast("Saved.");
      reload();
    }, out);
  });
  return form;
}

const assistant = {
  id: "assistant",
  title: "Assistant",
  route: "/assistant",
  available: (paths) => serves(paths, ["/c/{community}/know"]),
  async summary() {
    return h("section", { class: "card" }, h("h2", {}, "Ask the assistant"),
      h("p", {}, "Questions answered from your community's own documents, with their sources."),
      h("a", { href: "#/assistant" }, "Ask a question"));
  },
  async screen(_params, ctx) {
    const out = h("div", { "aria-live": "polite" });
    const question = field("Your question", { name: "question", rows: 3, required: true, maxlength: 2000 }, { as: "textarea" });
    const submit = h("button", { type: "submit" }, "Ask");
    const form = h("form", { class: "card", role: "search" }, question, submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        const text = form.question.value.trim();
        if (!text) throw Object.assign(new Error("Type a question first."), { type: "question_required" });
        out.replaceChildren(h("p", { class: "loading" }, "Looking through your community's documents…"));
        out.replaceChildren(answerView(await ctx.session.call("POST", "/know/ask", { question: text })));
      }, out);
    });
    // After a document is added, replaced or deleted only the library is drawn again: a question
    // she is typing meanwhile, and the last answer, stay as they are.
    const shelf = h("div");
    const reload = async () => {
      const library = await ctx.session.get("/know/documents").catch(() => ({ documents: [] }));
      const parts = [
        await libraryCard(ctx, library, reload),
        library.may_upload === false ? null : documentForm(ctx, null, reload),
        isAdminMember(ctx.app.me) ? librarySettings(ctx, library, reload) : null,
      ];
      if (ctx.isCurrent()) shelf.replaceChildren(...parts.filter(Boolean));
    };
    await reload();
    ctx.render(
      h("h1", {}, "Assistant"),
      h("p", {}, "Answers come only from documents you may read, and name their sources."),
      form,
      out,
      shelf,
    );
  },
};

// -- Communicate and Discuss: announcements, forums, chat ----------------------------------

const MSG = "/messaging";

/** Server-rendered (sanitized) markdown, parsed inertly and stripped once more of anything active. */
export function richText(html, fallback) {
  if (typeof html !== "string") return h("p", { class: "plain-text" }, fallback || "");
  const doc = new DOMParser().parseFromString(`<div>${html}</div>`, "text/html");
  const root = doc.body.firstElementChild;
  root.querySelectorAll("script,style,iframe,object,embed,form,input,button,link,meta,base").forEach((el) => el.remove());
  for (const el of root.querySelectorAll("*")) {
    for (const attr of [...el.attributes]) {
      const value = attr.value.trim().toLowerCase();
      if (attr.name.startsWith("on") || ((attr.name === "href" || attr.name === "src") && value.startsWith("javascript:"))) {
        el.removeAttribute(attr.name);
      }
    }
    if (el.tagName === "A") {
      el.setAttribute("rel", "noopener noreferrer nofollow");
      el.setAttribute("target", "_blank");
    }
  }
  const box = h("div", { class: "rich" });
  box.append(...root.childNodes);
  return box;
}

function whenNs(ns) {
  return ns ? new Date(Number(ns) / 1e6).toLocaleString() : "";
}

/** A member's name from the directory, kept for a minute; a name not known yet (a member who just
 * joined) reloads it sooner, so new and renamed members show by name, not as a DID. */
async function nameOf(ctx, did) {
  const cache = (ctx.app.nameCache ??= { names: new Map(), at: 0, loading: null });
  const age = Date.now() - cache.at;
  if (!cache.loading && (age > 60_000 || (!cache.names.has(did) && age > 5_000))) {
    cache.loading = ctx.session.get("/directory")
      .then((directory) => {
        cache.names = new Map(directory.members.filter((entry) => entry.did).map((entry) => [entry.did, entry.name]));
      }, () => null)
      .finally(() => {
        cache.at = Date.now();
        cache.loading = null;
      });
  }
  if (cache.loading) await cache.loading;
  return cache.names.get(did) || shortDid(did);
}

/** Live updates (SSE over fetch, so the bearer token travels in a header).
 *
 * One stream per screen: a screen that redraws itself calls `listen` again with its new handlers
 * and keeps the stream, so nothing sent while it redraws is missed. The gateway's `ready` says it
 * has subscribed: `onReady` then asks the screen to look again for whatever changed between its
 * fetch and that moment. The stream is opened again after a drop or the gateway's periodic end
 * (with a growing pause, and `onReady` again), for as long as the screen is shown; a `closed`
 * event (her membership ended) ends it for good. `<body data-live>` says where it is: "connecting",
 * "open" (subscribed) or "off". */
let live = null;
function listen(ctx, onNotice, onReady = null) {
  if (live && live.ctx === ctx && !live.controller.signal.aborted) {
    Object.assign(live, { onNotice, onReady }); // the same screen redrawn: same stream, new handlers
    return;
  }
  if (live) live.controller.abort();
  live = null;
  if (!ctx.isCurrent()) return; // the screen is no longer shown: nothing to keep live
  const stream = { ctx, onNotice, onReady, controller: new AbortController() };
  live = stream;
  const { signal } = stream.controller;
  const state = (value) => {
    if (live !== stream) return;
    document.body.dataset.live = value;
    // A stream that dropped and has not come back within a few seconds is said so in the header:
    // what she sees may be behind (it catches up once back).
    const shown = document.getElementById("live-status");
    clearTimeout(stream.telling);
    if (!shown) return;
    if (value === "connecting" && stream.dropped) {
      stream.telling = setTimeout(() => { shown.hidden = !(live === stream && document.body.dataset.live === "connecting"); }, 3000);
    } else {
      shown.hidden = true;
    }
  };
  state("connecting");
  signal.addEventListener("abort", () => state("off"), { once: true });
  ctx.signal.addEventListener("abort", () => stream.controller.abort(), { once: true });
  const once = async () => {
    if (!ctx.session.tokens) await ctx.session.signIn();
    const response = await fetch(`${ctx.session.base}/live`, {
      headers: { authorization: `Bearer ${ctx.session.tokens.access_token}`, accept: "text/event-stream" },
      signal,
      cache: "no-store",
    });
    if (response.status === 401) {
      await ctx.session.signIn(); // her access token expired: the next try has a fresh one
      return;
    }
    if (!response.ok || !response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (!event || !data) continue;
        if (event === "closed") return stream.controller.abort();
        try {
          if (event === "ready") {
            state("open");
            await stream.onReady?.();
          }
          else await stream.onNotice(event, JSON.parse(data));
        } catch (error) {
          console.warn("live update", error);
        }
      }
    }
  };
  (async () => {
    let pause = 1000;
    for (;;) {
      const opened = Date.now();
      await once().catch(() => null);
      if (signal.aborted || !ctx.isCurrent()) return;
      stream.dropped = true;
      state("connecting");
      if (Date.now() - opened > 60000) pause = 1000; // it ran for a while: this is a fresh drop
      await new Promise((resolve) => setTimeout(resolve, pause));
      if (signal.aborted || !ctx.isCurrent()) return;
      pause = Math.min(pause * 2, 30000);
    }
  })();
}

const announcements = {
  id: "announcements",
  title: "Announcements",
  route: "/announcements",
  available: (paths) => serves(paths, [`/c/{community}${MSG}/inbox`]),
  async summary(ctx) {
    const inbox = await ctx.session.get(`${MSG}/inbox?limit=3`).catch(() => ({ announcements: [], unread: 0 }));
    return h("section", { class: "card" }, h("h2", {}, "Announcements"),
      inbox.announcements.length
        ? h("ul", { class: "plain" }, inbox.announcements.map((a) => h("li", {}, h("a", { href: `#/announcements?a=${encodeURIComponent(a.announcement)}` }, a.title), a.read ? "" : h("span", { class: "badge" }, "new"))))
        : h("p", {}, "No announcements yet."),
      h("a", { href: "#/announcements" }, "All announcements"));
  },
  async screen(params, ctx) {
    const id = params.get("a");
    if (id) {
      const item = await ctx.session.get(`${MSG}/inbox/${encodeURIComponent(id)}`);
      if (!item.read) await ctx.session.act(`${MSG}/acts/mark_announcement_read`, "messaging.mark_announcement_read", { announcement: id }).catch(() => null);
      const stats = isAdminMember(ctx.app.me)
        ? await ctx.session.get(`${MSG}/announcements/${encodeURIComponent(id)}/stats`).catch(() => null)
        : null;
      return ctx.render(
        h("h1", {}, item.title),
        h("p", { class: "hint" }, `From ${await nameOf(ctx, item.by)} · ${whenNs(item.at_ns)}`),
        stats ? h("p", { class: "stats", "data-testid": "stats" }, `Reached ${stats.recipients} · read by ${stats.read}`,
          stats.email.sent || stats.email.failed ? ` · email sent ${stats.email.sent}, failed ${stats.email.failed}` : "") : null,
        h("article", { class: "card" }, richText(item.html, item.body)),
        item.public ? h("p", { class: "hint", "data-testid": "in-archive" }, "In the public archive: anyone can read it, without an account. ",
          h("a", { href: `${archiveUrl(ctx)}/${encodeURIComponent(item.announcement)}`, target: "_blank", rel: "noopener" }, "Open it there")) : null,
        h("p", {}, h("a", { href: "#/announcements" }, "All announcements")),
      );
    }
    const inbox = await ctx.session.get(`${MSG}/inbox`);
    const parts = [
      h("h1", {}, "Announcements"),
      inbox.announcements.length
        ? h("ul", { class: "list" }, inbox.announcements.map((a) => h("li", { class: "member" },
            h("a", { href: `#/announcements?a=${encodeURIComponent(a.announcement)}` }, h("strong", {}, a.title)), " ",
            a.read ? null : h("span", { class: "badge" }, "new"), h("div", { class: "hint" }, whenNs(a.at_ns)))))
        : h("p", { class: "card" }, "No announcements yet."),
      archiveLink(ctx),
    ];
    parts.push(await emailCard(ctx));
    if (ctx.app.me.roles.includes("admin")) {
      const reload = () => announcements.screen(new URLSearchParams(), ctx);
      parts.push(composeForm(ctx, reload), await outbox(ctx, reload), welcomeForm(ctx));
    }
    ctx.render(parts);
  },
};

/** The community's public archive of announcements: a page anyone opens, without an account. */
function archiveUrl(ctx) {
  return `${ctx.session.base}/announcements/archive`;
}

function archiveLink(ctx) {
  return h("p", { class: "hint" }, h("a", { href: archiveUrl(ctx), target: "_blank", rel: "noopener", "data-testid": "public-archive" }, "Public archive"),
    " · what the community publishes for anyone, with an ", h("a", { href: `${archiveUrl(ctx)}.atom`, target: "_blank", rel: "noopener" }, "Atom feed"), ".");
}

function restricted(audience) {
  return Boolean(audience?.roles?.length || audience?.types?.length || audience?.tags?.length);
}

function audienceText(audience) {
  const parts = [];
  if (audience?.roles?.length) parts.push(`roles: ${audience.roles.join(", ")}`);
  if (audience?.types?.length) parts.push(`types: ${audience.types.join(", ")}`);
  if (audience?.tags?.length) parts.push(`tags: ${audience.tags.join(", ")}`);
  return parts.length ? parts.join(" · ") : "every member";
}

/** An admin writes an announcement for every member or a segment (by role, membership type or
 * tag: a member in any one named segment receives it), and sends it now, at a later time, or
 * keeps it as a draft. */
function composeForm(ctx, reload) {
  const out = h("div", { "aria-live": "polite" });
  const policy = ctx.app.profile?.policy || {};
  const title = field("Title", { name: "title", required: true, maxlength: 200 });
  const body = field("Message", { name: "body", rows: 5, required: true }, { as: "textarea", hint: "Markdown works: **bold**, lists, links." });
  const pick = (legend, key, values) => checkFieldset(legend, key, values.map((value) => [value, value]));
  const types = (policy.membership_types || []).map((t) => t.name);
  const audience = h("details", { class: "settings" }, h("summary", {}, "Audience: every member (choose a segment)"),
    h("p", { class: "hint" }, "Nothing ticked: every member in good standing. Otherwise members with any of the ticked roles or types, or any of the tags."),
    pick("Roles", "roles", policy.roles || ["admin", "moderator", "member"]),
    types.length > 1 ? pick("Membership types", "types", types) : null,
    field("Tags (comma separated)", { name: "tags", autocomplete: "off", placeholder: "bakery, volunteers" }));
  const when = field("When", { name: "when" }, { as: "select", options: [["now", "Send now"], ["later", "Send at a later time"], ["draft", "Keep as a draft"]] });
  const at = field("Send at", { name: "send_at", type: "datetime-local" });
  at.hidden = true;
  const publicHint = h("p", { class: "hint", id: "compose-public-hint" }, "Published once it is sent, with the community's signature; you can withdraw it later.");
  const publish = h("div", { class: "check" },
    h("input", { type: "checkbox", id: "compose-public", name: "public", "aria-describedby": "compose-public-hint" }),
    h("label", { for: "compose-public" }, "Also publish in the public archive (anyone can read it, without an account)"));
  const submit = h("button", { type: "submit" }, "Sign and send");
  const form = h("form", { class: "card", "aria-label": "New announcement" }, h("h2", {}, "New announcement"), title, body, audience, when, at, publish, publicHint, submit, out);
  const summary = audience.querySelector("summary");
  const chosen = () => {
    const tags = form.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
    return { roles: ticked(form, "roles"), types: ticked(form, "types"), tags: [...new Set(tags)] };
  };
  form.addEventListener("change", () => {
    summary.textContent = `Audience: ${audienceText(chosen())}`;
    // Only an announcement to every member may be public: a segment's stays among its members.
    const segment = restricted(chosen());
    form.public.disabled = segment;
    if (segment) form.public.checked = false;
    publicHint.textContent = segment
      ? "Only an announcement to every member can be in the public archive: clear the audience to publish it."
      : "Published once it is sent, with the community's signature; you can withdraw it later.";
    at.hidden = form.when.value !== "later";
    submit.textContent = { now: "Sign and send", later: "Sign and schedule", draft: "Sign and save the draft" }[form.when.value];
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const act = { title: form.title.value.trim(), body: form.body.value, audience: chosen() };
      if (form.public.checked && !form.public.disabled) act.public = true;
      if (!act.title || !act.body.trim()) throw new ApiError(0, "invalid_request", "An announcement needs a title and a message.");
      if (form.when.value === "later") {
        const moment = form.send_at.value ? new Date(form.send_at.value) : null;
        if (!moment || Number.isNaN(moment.getTime())) throw new ApiError(0, "invalid_request", "Choose when to send it.");
        if (moment.getTime() <= Date.now()) throw new ApiError(0, "invalid_request", "That time has passed: choose a later one, or send now.");
        act.send_at = formatDatetime(moment);
      } else if (form.when.value === "draft") act.draft = true;
      const done = await ctx.session.act(`${MSG}/acts/compose_announcement`, "messaging.compose_announcement", act);
      toast((done.state === "sent" ? `Announcement sent to ${count(done.recipients, "member")}.` : done.send_at ? `Scheduled for ${new Date(done.send_at).toLocaleString()}.` : "Draft saved.")
        + (done.public ? (done.state === "sent" ? " It is in the public archive." : " It goes to the public archive once sent.") : ""));
      await reload();
    }, out);
  });
  return form;
}

/** For admins: drafts and scheduled announcements (send now or cancel), and what was sent, with
 * how many it reached, how many read it and how its email went. */
async function outbox(ctx, reload) {
  const listed = await ctx.session.get(`${MSG}/announcements?limit=20`).catch(() => ({ pending: [], sent: [] }));
  const out = h("div", { "aria-live": "polite" });
  const button = (label, work, secondary = true) => actionButton(label, work, out, { after: reload, primary: !secondary });
  const act = (name, id) => ctx.session.act(`${MSG}/acts/${name}`, `messaging.${name}`, { announcement: id });
  const pending = listed.pending.map((d) => h("li", { class: "member" },
    h("strong", {}, d.title), " ", h("span", { class: "badge" }, d.send_at ? "scheduled" : "draft"),
    d.public ? h("span", { class: "badge" }, "public once sent") : null,
    h("div", { class: "hint" }, `${d.send_at ? `Sends ${new Date(d.send_at).toLocaleString()}` : "Not sent until you send it"} · to ${audienceText(d.audience)}`),
    h("div", { class: "actions" },
      button("Send now", async () => {
        const sent = await act("send_announcement", d.announcement);
        toast(`Announcement sent to ${count(sent.recipients, "member")}.`);
      }, false),
      button("Cancel", async () => {
        await act("cancel_announcement", d.announcement);
        toast("Cancelled: it will not be sent.");
      }))));
  const publicAct = (id, value) => ctx.session.act(`${MSG}/acts/set_announcement_public`, "messaging.set_announcement_public", { announcement: id, public: value });
  // Sent to every member: in the public archive or not, and the button to change it.
  const archived = (s) => restricted(s.audience) ? null : h("div", { class: "actions" },
    s.public ? h("span", { class: "badge", "data-testid": "public" }, "In the public archive") : null,
    s.public
      ? button("Withdraw from the public archive", async () => {
        await publicAct(s.announcement, false);
        toast("Withdrawn: the public archive no longer shows it. Members still have it.");
      })
      : button("Publish in the public archive", async () => {
        await publicAct(s.announcement, true);
        toast("Published: anyone can read it in the public archive.");
      }));
  const sent = await Promise.all((listed.sent || []).map(async (s) => h("li", { class: "member" },
    h("a", { href: `#/announcements?a=${encodeURIComponent(s.announcement)}` }, h("strong", {}, s.title)),
    h("div", { class: "hint" }, `${await nameOf(ctx, s.by)} · ${whenNs(s.at_ns)} · to ${audienceText(s.audience)}`),
    h("div", { class: "stats" }, `Reached ${s.recipients} · read by ${s.read}`,
      s.email && (s.email.sent || s.email.failed) ? ` · email sent ${s.email.sent}, failed ${s.email.failed}` : ""),
    archived(s))));
  return h("section", { class: "card", "aria-label": "Outbox" }, h("h2", {}, "Outbox"),
    pending.length ? h("ul", { class: "list", "data-testid": "pending" }, pending) : h("p", { class: "hint" }, "No drafts or scheduled announcements."),
    h("h3", {}, "Sent"),
    sent.length ? h("ul", { class: "list", "data-testid": "sent" }, sent) : h("p", { class: "hint" }, "Nothing sent yet."),
    out);
}

/** Her own email opt-in: announcements also by email, to an address she proves by a link. */
async function emailCard(ctx) {
  const status = await ctx.session.get(`${MSG}/email`).catch(() => null);
  if (!status || !status.available) return null;
  const out = h("div", { "aria-live": "polite" });
  const card = h("section", { class: "card", "aria-label": "Email" }, h("h2", {}, "Email"));
  const reload = async () => card.replaceWith(await emailCard(ctx) || h("div"));
  if (status.bounced && !status.email) {
    // Her mail server refused the address for good: mail stopped until she confirms one again.
    const b = status.bounced;
    card.append(h("p", { class: "error", role: "status", "data-testid": "email-bounced" },
      `Mail to ${b.email} was refused by its mail server on ${new Date(b.at).toLocaleDateString()}, so we stopped sending it. `,
      h("span", { class: "code" }, `The server said: ${b.said}. `),
      "Check the address and ask for the link again."));
  }
  if (status.email || status.pending) {
    const stop = h("button", { type: "button", class: "secondary" }, "Stop emails");
    stop.addEventListener("click", () => busy(stop, async () => {
      await ctx.session.act(`${MSG}/acts/unsubscribe_email`, "messaging.unsubscribe_email", {});
      toast("No more emails: announcements stay here in the app.");
      await reload();
    }, out));
    card.append(h("p", { "data-testid": "email-status" }, status.email
      ? `Announcements also go to ${status.email}.`
      : `Waiting for you to open the link we sent to ${status.pending}.`),
      mailPicker(ctx, "decide", status.decide), mailPicker(ctx, "discuss", status.discuss),
      mailPicker(ctx, "chat", status.chat),
      digestForm(ctx, status.digest),
      h("p", { class: "hint" }, `Forum and chat mails wait ${waited(status.mail_delay_s)} and go only if you have not read them here by then. Poll mails go at once. The app always shows everything.`),
      stop, out);
    return card;
  }
  const email = field("Your email address", { name: "email", type: "email", required: true, autocomplete: "email", maxlength: 254 });
  const submit = h("button", { type: "submit", class: "secondary" }, "Send me the confirmation link");
  const form = h("form", {}, h("p", { class: "hint" }, "Get each announcement by email as well. We send a link first, to check the address is yours."), email, submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      await ctx.session.act(`${MSG}/acts/subscribe_email`, "messaging.subscribe_email", { email: form.email.value.trim() });
      toast("Check your mailbox for the confirmation link.");
      await reload();
    }, out);
  });
  card.append(form);
  return card;
}

/** "ten minutes", "30 seconds", "an hour": how long forum and chat mails wait for her. */
function waited(seconds) {
  const s = Math.round(Number(seconds) || 0);
  if (s <= 0) return "no time";
  const [n, unit] = s % 3600 === 0 ? [s / 3600, "hour"] : s % 60 === 0 ? [s / 60, "minute"] : [s, "second"];
  const words = { 1: unit === "hour" ? "an" : "a", 10: "ten" };
  return n === 1 ? `${words[1]} ${unit}` : `${words[n] || n} ${unit}s`;
}

const MAIL_LEVELS = {
  decide: ["Poll mails", [
    ["normal", "Votes, reminders, results"],
    ["watching", "Those, and trustees' progress"],
    ["muted", "None"],
  ]],
  discuss: ["Forum mails", [
    ["normal", "Mentions and replies"],
    ["watching", "Those, and all I watch"],
    ["muted", "None"],
  ]],
  chat: ["Chat mails", [
    ["normal", "Messages to me"],
    ["muted", "None"],
  ]],
};

/** What else she gets at her address, per module: a signed setting (scope `decide`, `discuss` or `chat`). */
function mailPicker(ctx, scope, level) {
  const [label, choices] = MAIL_LEVELS[scope];
  const id = `mail-${scope}`;
  const select = h("select", { id, name: scope },
    choices.map(([value, text]) => h("option", { value, selected: value === (level || "normal") }, text)));
  const out = h("div", { "aria-live": "polite" });
  select.addEventListener("change", () => busy(select, async () => {
    await actMsg(ctx, "set_notification_level", { scope, level: select.value });
    toast(select.value === "muted" ? `No more ${label.toLowerCase()}: it all stays here in the app.` : `${label}: saved.`);
  }, out));
  return h("div", { class: "field" }, h("label", { for: id }, label), select, out);
}

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const mondayFirst = (day) => (day + 6) % 7;  // JS counts from Sunday; the service from Monday

/** The moment of a summary: UTC hour `hour` on UTC weekday `weekday` (0 = Monday), this week. */
function digestMoment(hour, weekday) {
  const d = new Date();
  d.setUTCHours(hour, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() + (weekday - mondayFirst(d.getUTCDay()) + 7) % 7);
  return d;
}

/** Her weekday (0 = Monday) at UTC hour `hour` as the service's UTC weekday. */
function utcWeekday(hour, localWeekday) {
  for (let utc = 0; utc < 7; utc += 1) {
    if (mondayFirst(digestMoment(hour, utc).getDay()) === localWeekday) return utc;
  }
  return localWeekday;
}

/** A summary by email of what she has not read: off, daily or weekly. The service keeps whole
 * hours of UTC; the choices are shown in her own time (exact in every time zone, half-hour ones too). */
function digestForm(ctx, digest) {
  const setting = digest || { frequency: "off", hour: 7, weekday: 0, last: null };
  const out = h("div", { "aria-live": "polite" });
  const frequency = field("Summary of what I have not read", { name: "frequency" }, { as: "select", options: [["off", "None"], ["daily", "Every day"], ["weekly", "Every week"]] });
  const local = (hour) => digestMoment(hour, 0).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const hours = [...Array(24).keys()].sort((a, b) => {
    const at = (hour) => { const d = digestMoment(hour, 0); return d.getHours() * 60 + d.getMinutes(); };
    return at(a) - at(b);
  });
  const time = field("At (your time)", { name: "hour" }, { as: "select", options: hours.map((hour) => [String(hour), local(hour)]) });
  const weekday = field("On", { name: "weekday" }, { as: "select", options: WEEKDAYS.map((name, i) => [String(i), name]) });
  const save = h("button", { type: "submit", class: "secondary" }, "Save summary");
  const last = setting.last
    ? h("p", { class: "hint", "data-testid": "digest-last" }, `Last summary: ${new Date(setting.last.at).toLocaleString()}, ${count(setting.last.items, "item")}.`)
    : null;
  const form = h("form", { "aria-label": "Summary by email" }, frequency, time, weekday,
    h("p", { class: "hint" }, "One mail listing the new posts, announcements and private messages you have not read here. Nothing new, no mail."),
    last, save, out);
  form.frequency.value = setting.frequency;
  form.hour.value = String(setting.hour);
  form.weekday.value = String(mondayFirst(digestMoment(setting.hour, setting.weekday).getDay()));
  const shown = () => {
    time.hidden = form.frequency.value === "off";
    weekday.hidden = form.frequency.value !== "weekly";
  };
  shown();
  form.addEventListener("change", shown);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, async () => {
      const hour = Number(form.hour.value);
      const body = { frequency: form.frequency.value, hour, weekday: utcWeekday(hour, Number(form.weekday.value)) };
      await actMsg(ctx, "set_digest", body);
      const when = `${local(hour)}${body.frequency === "weekly" ? ` on ${WEEKDAYS[Number(form.weekday.value)]}s` : ""}`;
      toast(body.frequency === "off" ? "No summaries by email." : `Summary by email ${body.frequency === "daily" ? "every day" : "every week"} at ${when}.`);
    }, out);
  });
  return form;
}

/** An admin sets the welcome message: signed once by the community, delivered once to each member
 * admitted afterwards (the service's `configure_welcome`). */
function welcomeForm(ctx) {
  const out = h("div", { "aria-live": "polite" });
  const title = field("Welcome title", { name: "title", required: true, maxlength: 200, value: "Welcome!" });
  const body = field("Welcome message", { name: "body", rows: 5, required: true }, { as: "textarea", hint: "Every member admitted from now on finds it in their announcements once. Markdown works." });
  const submit = h("button", { type: "submit", class: "secondary" }, "Sign and set the welcome");
  const form = h("form", { class: "card" }, h("h2", {}, "Welcome message for new members"), title, body, submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      if (!form.title.value.trim() || !form.body.value.trim()) throw Object.assign(new Error("A welcome needs a title and a message."), { type: "welcome_required" });
      await ctx.session.act(`${MSG}/acts/configure_welcome`, "messaging.configure_welcome", { title: form.title.value.trim(), body: form.body.value });
      toast("Welcome message set: new members will receive it.");
    }, out);
  });
  return form;
}

// -- Discuss: a thread, with reactions, quotes, mentions, edits and their history, answers ------

const REACTIONS = ["👍", "❤️", "🎉", "😄", "🤔"];
const LEVELS = [
  ["watching", "Watching: every new post"],
  ["normal", "Normal: replies to me and mentions"],
  ["muted", "Muted: nothing"],
];

function actMsg(ctx, name, body) {
  return ctx.session.act(`${MSG}/acts/${name}`, `messaging.${name}`, body);
}

/** The members a text names as "@Their Name" (longest names first, so "@Ann Lee" is not "@Ann"). */
async function mentionsIn(ctx, text) {
  if (!text.includes("@")) return [];
  await nameOf(ctx, ctx.app.keys.did); // loads the directory's names
  let rest = text.toLowerCase();
  const found = [];
  const names = [...ctx.app.nameCache.names.entries()].sort((a, b) => b[1].length - a[1].length);
  for (const [did, name] of names) {
    const tag = `@${name.toLowerCase()}`;
    if (did === ctx.app.keys.did || !rest.includes(tag)) continue;
    found.push(did);
    rest = rest.split(tag).join(" ");
  }
  return found.slice(0, 50);
}

/** What a quote takes from a post: her selection inside it when it is a piece of the post's text,
 * else its first paragraph (at most 300 characters); either is an excerpt the service accepts. */
function excerptOf(post, element) {
  const selection = window.getSelection?.();
  const chosen = String(selection || "").trim();
  if (chosen && chosen.length <= 1000 && selection.anchorNode && element.contains(selection.anchorNode) && post.body.includes(chosen)) {
    return chosen;
  }
  const first = post.body.trim().split(/\n\s*\n/)[0].trim();
  return first.length <= 300 ? first : first.slice(0, 300).replace(/\s+\S*$/, "");
}

/** A notification level picker for a thread or a forum: a signed setting, kept per member. */
function levelPicker(ctx, scope, level, what) {
  const id = `level-${scope.replace(/[^a-z0-9]/gi, "-")}`;
  const select = h("select", { id, name: "level" }, LEVELS.map(([value, label]) => h("option", { value, selected: value === level }, label)));
  const out = h("div", { "aria-live": "polite" });
  select.addEventListener("change", () => busy(select, async () => {
    await actMsg(ctx, "set_notification_level", { scope, level: select.value });
    toast(`Notifications for this ${what}: ${select.value}.`);
  }, out));
  return h("div", { class: "field" }, h("label", { for: id }, `Notify me about this ${what}`), select, out);
}

/** A poll discussed in a thread, as the thread lists it: its title, state, close and, once decided,
 * its result in a few words. */
async function threadPollItem(ctx, p) {
  let result = null;
  if (p.status === "decided") {
    const base = `/polls/${encodeURIComponent(p.poll)}`;
    const [poll, results] = await Promise.all([ctx.session.get(base), ctx.session.get(`${base}/results`)])
      .catch((error) => (console.warn("thread poll result", error), [null, null]));
    const line = results?.result ? resultLine(results.result, poll) : "";
    if (line) result = h("div", { "data-testid": "thread-poll-result" }, h("strong", {}, "Result: "), line);
  }
  return h("li", { class: "member", dataset: { poll: p.poll } },
    h("a", { href: `#/polls?poll=${encodeURIComponent(p.poll)}` }, h("strong", {}, p.title)), " ",
    h("span", { class: "badge" }, p.status), p.secret ? h("span", { class: "badge" }, "secret") : null,
    h("div", { class: "hint" }, pollWhen(p)), result);
}

/** The thread's decisions (Loomio's polls in their discussion): every poll whose discussion link is
 * this thread, and a way to start one here. Hidden when Decide is not there to ask. */
async function threadDecisions(ctx, id, part) {
  let listed;
  try {
    listed = await ctx.session.get(`/polls?thread=${encodeURIComponent(id)}`);
  } catch (error) {
    console.warn("thread polls", error);
    part.hidden = true;
    return;
  }
  const items = await Promise.all(listed.polls.map((p) => threadPollItem(ctx, p)));
  if (!ctx.isCurrent()) return;
  const start = h("a", { class: "button secondary", href: `#/polls?new=1&thread=${encodeURIComponent(id)}` }, "Start a poll in this thread");
  part.className = items.length ? "card thread-decisions" : "thread-decisions";
  part.replaceChildren(...(items.length
    ? [h("h2", {}, `Decisions (${items.length})`), h("ul", { class: "list", "data-testid": "thread-polls" }, items), start]
    : [start]));
  part.hidden = false;
}

async function threadScreen(ctx, id, focusPost = null) {
  const path = `${MSG}/threads/${encodeURIComponent(id)}`;
  let thread = await ctx.session.get(path);
  const decisions = h("section", { "aria-label": "Decisions", "data-testid": "decisions", hidden: true });
  const me = ctx.app.keys.did;
  const moderator = isModerator(ctx);
  const list = h("ol", { class: "list", "data-testid": "posts" });
  const head = h("div");
  const out = h("div", { "aria-live": "polite" });
  let quoting = null; // {post, excerpt, by} of the reply being written
  const quoteBox = h("div", { "data-testid": "quoting" });
  let marked = 0; // the read marker this screen last set

  const showQuote = async () => {
    if (!quoting) return quoteBox.replaceChildren();
    const remove = h("button", { type: "button", class: "secondary" }, "Remove the quote");
    remove.addEventListener("click", () => {
      quoting = null;
      showQuote();
    });
    quoteBox.replaceChildren(h("blockquote", {}, h("div", { class: "hint" }, `Quoting ${await nameOf(ctx, quoting.by)}`), h("p", { class: "plain-text" }, quoting.excerpt)), remove);
  };

  const reactions = (p) => h("div", { class: "reactions", role: "group", "aria-label": "Reactions" }, REACTIONS.map((r) => {
    const mine = (p.mine || []).includes(r);
    const count = (p.reactions || {})[r] || 0;
    const b = h("button", { type: "button", class: mine ? "reaction mine" : "reaction secondary", "aria-pressed": String(mine), title: mine ? "Take back your reaction" : "React" }, count ? `${r} ${count}` : r);
    b.addEventListener("click", () => busy(b, async () => {
      await actMsg(ctx, "react", { target: p.post, kind: "post", reaction: r, add: !mine });
      await refresh();
    }, out));
    return b;
  }));

  const history = (p) => {
    const box = h("details", { class: "history" }, h("summary", {}, "edited: show earlier versions"));
    box.addEventListener("toggle", async () => {
      if (!box.open || box.dataset.loaded) return;
      box.dataset.loaded = "1";
      const versions = await ctx.session.get(`${MSG}/posts/${encodeURIComponent(p.post)}/history`).catch((error) => ({ versions: [], error }));
      box.append(versions.error ? errorText(versions.error) : h("ol", { class: "plain", "data-testid": "versions" }, versions.versions.map((v, i) => h("li", {},
        h("div", { class: "hint" }, `${i === 0 ? "First written" : `Version ${i + 1}`} · ${whenNs(v.at_ns)}`),
        v.title ? h("strong", {}, v.title) : null, richText(v.html, v.body)))));
    });
    return box;
  };

  const editForm = (p, li) => {
    const opening = p.post === thread.posts[0]?.post;
    const errors = h("div", { "aria-live": "polite" });
    const title = opening ? field("Title", { name: "title", required: true, maxlength: 200, value: thread.title }) : null;
    const body = field("Your post", { name: "body", rows: 5, required: true }, { as: "textarea" });
    const save = h("button", { type: "submit" }, "Sign and save the edit");
    const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
    const form = h("form", { class: "edit", "aria-label": "Editing" }, title, body, save, cancel, errors);
    form.body.value = p.body;
    cancel.addEventListener("click", () => refresh(false));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(save, async () => {
        const next = { post: p.post, body: form.body.value };
        if (!next.body.trim()) throw new ApiError(0, "invalid_request", "A post cannot be empty.");
        if (opening) next.title = form.title.value.trim();
        if (next.body === p.body && (!opening || next.title === thread.title)) throw new ApiError(0, "unchanged", "Nothing changed.");
        await actMsg(ctx, "edit_post", next);
        toast("Edit saved; the earlier version stays in its history.");
        await refresh();
      }, errors);
    });
    li.querySelector(".post-body").replaceChildren(form);
    form.body.focus();
  };

  const postItem = async (p) => {
    const visible = p.state === "visible" || p.body !== undefined;
    const answer = thread.answer && thread.answer === p.post;
    const li = h("li", { class: answer ? "member post answer" : "member post", id: `post-${p.post}`, dataset: { post: p.post } },
      h("div", { class: "hint" }, `${await nameOf(ctx, p.by)} · ${whenNs(p.created_ns)}`, answer ? " " : null, answer ? h("span", { class: "badge" }, "answer") : null),
      p.quote && visible ? h("blockquote", { class: "quote" },
        h("div", { class: "hint" }, h("a", { href: `#/forums?thread=${encodeURIComponent(id)}&post=${encodeURIComponent(p.quote.post)}` }, `${await nameOf(ctx, p.quote.by)} wrote:`)),
        h("p", { class: "plain-text" }, p.quote.excerpt)) : null,
      h("div", { class: "post-body" }, visible ? richText(p.html, p.body) : h("p", { class: "hint" }, `(${p.state})`)),
      p.state && p.state !== "visible" && p.body !== undefined ? h("p", { class: "badge" }, p.state) : null,
      visible && p.edited ? history(p) : null);
    if (p.state === "visible") {
      const actions = [reactions(p)];
      const tool = (label, work) => actions.push(actionButton(label, work, out));
      tool("Quote", async () => {
        quoting = { post: p.post, excerpt: excerptOf(p, li), by: p.by };
        await showQuote();
        reply.body.focus();
      });
      if (p.by === me) tool("Edit", async () => editForm(p, li));
      if ((thread.by === me || moderator) && p.post !== thread.posts[0]?.post && !answer) {
        tool("Mark as the answer", async () => {
          await actMsg(ctx, "resolve_thread", { thread: id, resolved: true, answer: p.post });
          toast("Marked as the answer.");
          await refresh();
        });
      }
      li.append(h("div", { class: "actions" }, actions));
    }
    const tools = moderationTools(ctx, { kind: "post", target: p.post, by: p.by, state: p.state || "visible", space: `category:${thread.category}` }, refresh);
    if (tools) li.append(tools);
    return li;
  };

  const header = () => {
    const tools = [];
    const tool = (label, work) => tools.push(actionButton(label, work, out, { after: refresh }));
    if (moderator) tool(thread.pinned ? "Unpin" : "Pin to the top", () => actMsg(ctx, "pin_thread", { thread: id, pinned: !thread.pinned }));
    if (thread.by === me || moderator) {
      tool(thread.resolved ? "Reopen" : "Mark resolved", () => actMsg(ctx, "resolve_thread", { thread: id, resolved: !thread.resolved }));
    }
    head.replaceChildren(
      h("h1", {}, thread.title),
      h("p", {}, thread.pinned ? h("span", { class: "badge" }, "pinned") : null, thread.resolved ? h("span", { class: "badge" }, "resolved") : null,
        h("a", { href: `#/forums?category=${encodeURIComponent(thread.category)}` }, "Back to the forum")),
      h("div", { class: "card thread-tools" }, levelPicker(ctx, `thread:${id}`, thread.level || "normal", "thread"), tools.length ? h("div", { class: "actions" }, tools) : null));
  };

  // The posts are redrawn in place: a reply being written, and where she is writing it, stay as
  // they are when someone else replies, when she replies, or after a moderator's act.
  const refresh = async (fresh = true) => {
    if (fresh) thread = await ctx.session.get(path);
    const posts = await Promise.all(thread.posts.map(postItem));
    if (!ctx.isCurrent()) return;
    header();
    list.replaceChildren(...posts);
    // Reading the thread moves her read marker past its last post (a signed act, made only when
    // there is something unread), so the unread counts in the forum lists follow.
    if (thread.unread > 0 && thread.position > marked) {
      marked = thread.position;
      await actMsg(ctx, "mark_read", { scope: `thread:${id}`, position: thread.position }).catch((error) => console.warn("read marker", error));
    }
  };
  const body = field("Your reply", { name: "body", rows: 4, required: true }, { as: "textarea", hint: "Markdown works. Write @ and a member's name (@Ada Okafor) to notify them." });
  const submit = h("button", { type: "submit" }, "Sign and reply");
  const reply = h("form", { class: "card", "aria-label": "Reply" }, quoteBox, body, submit, out);
  reply.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const text = reply.body.value;
      if (!text.trim()) throw new ApiError(0, "reply_required", "Type a reply first.");
      const act = { thread: id, body: text, mentions: await mentionsIn(ctx, text) };
      if (quoting) act.quote = { post: quoting.post, excerpt: quoting.excerpt };
      await actMsg(ctx, "reply", act);
      reply.body.value = "";
      quoting = null;
      await showQuote();
      await refresh();
      reply.body.focus();
      toast("Reply posted.");
    }, out);
  });
  await Promise.all([refresh(false), threadDecisions(ctx, id, decisions)]);
  ctx.render(head, decisions, list, reply);
  if (focusPost) {
    const target = document.getElementById(`post-${focusPost}`);
    if (target) {
      target.classList.add("focused");
      target.scrollIntoView({ block: "center" });
    }
  }
  // A poll opened, closed or decided may be one of this thread's: its decisions are asked again.
  const shown = () => new Set([...decisions.querySelectorAll("li[data-poll]")].map((li) => li.dataset.poll));
  const catchUp = () => Promise.all([refresh(), threadDecisions(ctx, id, decisions)]).catch((error) => console.warn("thread refresh", error));
  listen(ctx, (kind, notice) => {
    if (notice.service === "governance") {
      if (["poll_opened", "poll_closed", "trustee_decrypted", "outcome_stated"].includes(kind) && (kind === "poll_opened" || shown().has(notice.poll))) {
        threadDecisions(ctx, id, decisions).catch((error) => console.warn("thread polls", error));
      }
      return;
    }
    if (JSON.stringify(notice).includes(id)) refresh().catch((error) => console.warn("thread refresh", error));
  }, catchUp); // the stream (re)opened: replies and decisions missed before it did
}

function errorText(error) {
  return h("p", { class: "hint" }, error.message || String(error));
}

/** Search the forums she may read (all, or one forum), and show where each hit is. */
function searchForm(ctx, category = null) {
  const results = h("div", { "aria-live": "polite", "data-testid": "search-results" });
  const text = field(category ? "Search this forum" : "Search the forums", { name: "text", type: "search", maxlength: 200, autocomplete: "off" });
  const go = h("button", { type: "submit", class: "secondary" }, "Search");
  const form = h("form", { class: "card", role: "search" }, text, go, results);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(go, async () => {
      const wanted = form.text.value.trim();
      if (!wanted) throw new ApiError(0, "invalid_request", "Type a word to search for.");
      const query = new URLSearchParams({ text: wanted });
      if (category) query.set("category", category);
      const found = await ctx.session.get(`${MSG}/search?${query}`);
      results.replaceChildren(found.results.length
        ? h("ul", { class: "list" }, await Promise.all(found.results.map(async (r) => h("li", { class: "member" },
            h("a", { href: `#/forums?thread=${encodeURIComponent(r.thread)}&post=${encodeURIComponent(r.post)}` }, h("strong", {}, r.title || "(untitled)")),
            h("div", { class: "plain-text" }, r.snippet),
            h("div", { class: "hint" }, `${await nameOf(ctx, r.by)} · ${whenNs(r.created_ns)}`)))))
        : h("p", { class: "hint" }, `Nothing found for “${wanted}”.`));
    }, results);
  });
  return form;
}

const REASONS = { mention: "mentioned you in", reply: "replied to your thread", watching: "posted in" };

/** Mentions, replies to her threads and posts where she watches, newest first. */
async function notificationsCard(ctx) {
  const listed = await ctx.session.get(`${MSG}/notifications?limit=10`).catch(() => ({ notifications: [] }));
  if (!listed.notifications.length) return null;
  return h("section", { class: "card", "aria-label": "For you" }, h("h2", {}, "For you"),
    h("ul", { class: "plain", "data-testid": "notifications" }, await Promise.all(listed.notifications.map(async (n) => h("li", {},
      `${await nameOf(ctx, n.by)} ${REASONS[n.reason] || "posted in"} `,
      h("a", { href: `#/forums?thread=${encodeURIComponent(n.thread)}&post=${encodeURIComponent(n.post)}` }, n.title || "a thread"),
      h("span", { class: "hint" }, ` · ${whenNs(n.at_ns)}`))))));
}

/** An admin's form for a new forum category, or (given `existing`) its settings: name, what it is
 * for, and which roles may read and post there (none ticked: every member). */
function categoryForm(ctx, existing, done) {
  const out = h("div", { "aria-live": "polite" });
  const name = field("Name", { name: "name", required: true, maxlength: 100, value: existing?.name || "" });
  const description = field("What it is for", { name: "description", maxlength: 1000, value: existing?.description || "" });
  const pick = (legend, key, chosen) => rolePicker(ctx, legend, key, chosen);
  const submit = h("button", { type: "submit" }, existing ? "Sign and save" : "Sign and create the forum");
  const label = existing ? `Settings of ${existing.name}` : "New forum";
  const form = h("form", { class: "card", "aria-label": label }, h("h2", {}, label), name, description,
    pick("Who may read", "read_roles", existing?.read_roles || []), pick("Who may post", "post_roles", existing?.post_roles || []), submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const title = form.name.value.trim();
      if (!title) throw new ApiError(0, "invalid_request", "A forum needs a name.");
      const body = {
        category: existing ? existing.category : slug(title, "forum"),
        name: title,
        description: form.description.value.trim(),
        read_roles: ticked(form, "read_roles"),
        post_roles: ticked(form, "post_roles"),
      };
      const act = existing ? "configure_category" : "create_category";
      await ctx.session.act(`${MSG}/acts/${act}`, `messaging.${act}`, body);
      toast(existing ? "Saved." : "Forum created.");
      done(body.category);
    }, out);
  });
  return form;
}

const forums = {
  id: "forums",
  title: "Forums",
  route: "/forums",
  available: (paths) => serves(paths, [`/c/{community}${MSG}/categories`]),
  async summary(ctx) {
    const listed = await ctx.session.get(`${MSG}/categories`).catch(() => ({ categories: [] }));
    return h("section", { class: "card" }, h("h2", {}, "Forums"),
      listed.categories.length
        ? h("ul", { class: "plain" }, listed.categories.map((c) => h("li", {}, h("a", { href: `#/forums?category=${encodeURIComponent(c.category)}` }, c.name), ` (${c.threads})`)))
        : h("p", {}, "No forums yet."));
  },
  async screen(params, ctx) {
    if (params.get("thread")) return threadScreen(ctx, params.get("thread"), params.get("post"));
    const category = params.get("category");
    if (!category) {
      const listed = await ctx.session.get(`${MSG}/categories`);
      const admin = isAdminMember(ctx.app.me);
      const who = (roles) => (roles.length ? roles.join(", ") : "every member");
      return ctx.render(h("h1", {}, "Forums"),
        await notificationsCard(ctx),
        listed.categories.length ? searchForm(ctx) : null,
        listed.categories.length
          ? h("ul", { class: "list", "data-testid": "categories" }, listed.categories.map((c) => h("li", { class: "member" },
              h("a", { href: `#/forums?category=${encodeURIComponent(c.category)}` }, h("strong", {}, c.name)),
              h("div", { class: "hint" }, c.description || "", ` · ${count(c.threads, "thread")}`,
                admin ? ` · read: ${who(c.read_roles)} · post: ${who(c.post_roles)}` : ""))))
          : h("p", { class: "card" }, admin ? "No forums yet: create the first below." : "No forums yet."),
        admin ? categoryForm(ctx, null, (made) => ctx.go(`/forums?category=${encodeURIComponent(made)}`)) : null);
    }
    const [listed, categories] = await Promise.all([
      ctx.session.get(`${MSG}/categories/${encodeURIComponent(category)}/threads`),
      ctx.session.get(`${MSG}/categories`).catch(() => ({ categories: [] })),
    ]);
    const named = categories.categories.find((c) => c.category === category);
    const out = h("div", { "aria-live": "polite" });
    const title = field("Title", { name: "title", required: true, maxlength: 200 });
    const body = field("Message", { name: "body", rows: 5, required: true }, { as: "textarea" });
    const submit = h("button", { type: "submit" }, "Sign and post");
    const form = h("form", { class: "card" }, h("h2", {}, "Start a thread"), title, body, submit, out);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        const started = await ctx.session.act(`${MSG}/acts/start_thread`, "messaging.start_thread", { category, title: form.title.value.trim(), body: form.body.value });
        ctx.go(`/forums?thread=${encodeURIComponent(started.thread)}`);
      }, out);
    });
    const settings = named && isAdminMember(ctx.app.me)
      ? h("details", { class: "card" }, h("summary", {}, "Forum settings"),
          categoryForm(ctx, named, () => forums.screen(params, ctx)))
      : null;
    ctx.render(
      h("h1", {}, named ? named.name : "Threads"),
      named && named.description ? h("p", { class: "lead" }, named.description) : null,
      h("p", {}, h("a", { href: "#/forums" }, "All forums")),
      settings,
      named ? h("div", { class: "card" }, levelPicker(ctx, `category:${category}`, named.level || "normal", "forum")) : null,
      listed.threads.length
        ? h("ul", { class: "list", "data-testid": "threads" }, listed.threads.map((t) => h("li", { class: "member" },
            h("a", { href: `#/forums?thread=${encodeURIComponent(t.thread)}` }, h("strong", {}, t.title)), " ",
            t.pinned ? h("span", { class: "badge" }, "pinned") : null, t.resolved ? h("span", { class: "badge" }, "resolved") : null,
            t.unread ? h("span", { class: "badge" }, `${t.unread} new`) : null,
            h("div", { class: "hint" }, `${count(t.posts, "post")} · last ${whenNs(t.last_ns)}`))))
        : h("p", { class: "card" }, "No threads yet."),
      listed.threads.length ? searchForm(ctx, category) : null,
      !named || named.may_post ? form : h("p", { class: "hint", "data-testid": "read-only" }, `Only ${named.post_roles.join(", ")} may start threads here.`),
    );
  },
};

async function conversationScreen(ctx, id) {
  const all = await ctx.session.get(`${MSG}/conversations`);
  const row = all.conversations.find((c) => c.conversation === id) || { members: [], name: "", unread: 0 };
  const title = row.kind === "direct"
    ? `Chat with ${(await Promise.all(row.members.filter((d) => d !== ctx.app.keys.did).map((d) => nameOf(ctx, d)))).join(", ")}`
    : row.name ? `# ${row.name}` : "Chat";
  const list = h("div");
  const out = h("div", { "aria-live": "polite" });
  const text = field("Message", { name: "body", rows: 2, required: true, autocomplete: "off" }, { as: "textarea", hint: "Enter sends; Shift+Enter starts a new line." });
  const submit = h("button", { type: "submit" }, "Send");
  const form = h("form", { class: "card composer" }, text, submit, out);
  let listed = { encrypted: false, messages: [], position: 0 };
  const unread = row.unread || 0;
  const read = { at: null, others: 0 }; // where her read marker is known to be

  // The messages are loaded into the list in place: the composer, a draft in it and the focus
  // stay as they are when a message arrives, when she sends one, or after a moderator's act.
  const refresh = async () => {
    listed = await ctx.session.get(`${MSG}/conversations/${encodeURIComponent(id)}/messages`);
    const e2e = listed.encrypted ? await import("./sealed.js") : null;
    const items = await Promise.all(listed.messages.map(async (m) => {
      let content;
      if (!listed.encrypted) content = richText(m.html, m.body);
      else if (!m.sealed) content = h("p", { class: "hint" }, "(sent before you joined: not sealed to you)");
      else {
        try {
          content = h("p", { class: "plain-text" }, await e2e.openSealed(m.sealed, await ctx.x25519()));
        } catch (error) {
          content = h("p", { class: "hint" }, `(cannot be opened on this device: ${error.message})`);
        }
      }
      // Report a message to the moderators, or (a moderator) hide it, remove it or ban its author
      // from a channel or group; nobody is banned from a direct conversation, she may leave it.
      const space = row.kind === "direct" ? null : `conversation:${id}`;
      const tools = moderationTools(ctx, { kind: "message", target: m.message, by: m.by, state: "visible", space }, refresh);
      return h("li", { class: m.by === ctx.app.keys.did ? "message mine" : "message", dataset: { message: m.message } },
        h("div", { class: "hint" }, `${await nameOf(ctx, m.by)} · ${whenNs(m.at_ns)}`), content, tools);
    }));
    if (!ctx.isCurrent()) return;
    list.replaceChildren(items.length
      ? h("ol", { class: "list chat", "data-testid": "messages" }, items)
      : h("p", { class: "card" }, "No messages yet. Say hello!"));
    // Opening the conversation reads it: her read marker moves to its last message, and the
    // unread counts on home and in the list follow. It is a signed act, so it is made only when
    // messages from others are past the marker (on opening, or when one arrives while she reads).
    const fromOthers = listed.messages.filter((m) => m.by !== ctx.app.keys.did).length;
    if (read.at === null && unread === 0) Object.assign(read, { at: listed.position, others: fromOthers });
    if (listed.position > (read.at ?? 0) && (read.at === null || fromOthers > read.others) && ctx.isCurrent()) {
      Object.assign(read, { at: listed.position, others: fromOthers });
      await ctx.session.act(`${MSG}/acts/mark_read`, "messaging.mark_read", { scope: `conversation:${id}`, position: listed.position })
        .catch((error) => console.warn("read marker", error));
    }
  };
  const send = () => busy(submit, async () => {
    const value = form.body.value;
    if (!value.trim()) throw Object.assign(new Error("Type a message first."), { type: "message_required" });
    const body = { conversation: id };
    if (listed.encrypted) {
      const e2e = await import("./sealed.js");
      body.sealed = await Promise.all(row.members.map((did) => e2e.sealFor(value, did)));
    } else body.body = value;
    await ctx.session.act(`${MSG}/acts/post_message`, "messaging.post_message", body);
    form.body.value = "";
    await refresh();
    form.body.focus();
  }, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  form.body.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  await refresh();
  ctx.render(
    h("h1", {}, title),
    listed.encrypted ? h("p", { class: "hint" }, "End-to-end encrypted: only the members of this conversation can read it.") : null,
    list,
    form,
    h("p", {}, h("a", { href: "#/chat" }, "All conversations")),
  );
  const catchUp = () => refresh().catch((error) => console.warn("chat refresh", error));
  listen(ctx, (_kind, notice) => {
    if (JSON.stringify(notice).includes(id)) catchUp();
  }, catchUp); // the stream (re)opened: messages missed before it did
}

async function directWith(ctx, did) {
  const made = await ctx.session.act(`${MSG}/acts/create_conversation`, "messaging.create_conversation", { kind: "direct", members: [did] });
  history.replaceState(null, "", `#/chat?conversation=${encodeURIComponent(made.conversation)}`);
  return conversationScreen(ctx, made.conversation);
}

const chat = {
  id: "chat",
  title: "Chat",
  route: "/chat",
  available: (paths) => serves(paths, [`/c/{community}${MSG}/conversations`]),
  async summary(ctx) {
    const listed = await ctx.session.get(`${MSG}/conversations`).catch(() => ({ conversations: [] }));
    const unread = listed.conversations.reduce((n, c) => n + (c.unread || 0), 0);
    return h("section", { class: "card" }, h("h2", {}, "Chat"),
      h("p", {}, listed.conversations.length ? `${count(listed.conversations.length, "conversation")}${unread ? `, ${unread} unread` : ""}.` : "No conversations yet."),
      h("a", { href: "#/chat" }, "Open chat"));
  },
  async screen(params, ctx) {
    if (params.get("with")) return directWith(ctx, params.get("with"));
    if (params.get("conversation")) return conversationScreen(ctx, params.get("conversation"));
    const listed = await ctx.session.get(`${MSG}/conversations`);
    const rows = await Promise.all(listed.conversations.map(async (c) => {
      const label = c.kind === "direct"
        ? (await Promise.all(c.members.filter((d) => d !== ctx.app.keys.did).map((d) => nameOf(ctx, d)))).join(", ")
        : `# ${c.name}`;
      return h("li", { class: "member" }, h("a", { href: `#/chat?conversation=${encodeURIComponent(c.conversation)}` }, h("strong", {}, label)), " ",
        c.unread ? h("span", { class: "badge" }, `${c.unread} new`) : null, c.encrypted ? h("span", { class: "badge" }, "encrypted") : null);
    }));
    const directory = await ctx.session.get("/directory?status=active").catch(() => ({ members: [] }));
    const others = directory.members.filter((m) => m.did && m.did !== ctx.app.keys.did);
    const pick = field("Message a member", { name: "member" }, { as: "select", options: others.map((m) => [m.did, m.name]) });
    const start = h("button", { type: "submit", class: "secondary" }, "Start");
    const form = h("form", { class: "card row" }, pick, start);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      ctx.go(`/chat?with=${encodeURIComponent(form.member.value)}`);
    });
    ctx.render(h("h1", {}, "Chat"), rows.length ? h("ul", { class: "list" }, rows) : h("p", { class: "card" }, "No conversations yet."), others.length ? form : null);
  },
};

/** A PLANET social module, given the helpers it shares with these screens. */
function social(module) {
  const extend = (ctx) => ({ ...ctx, richText, nameOf: (did) => nameOf(ctx, did) });
  return {
    ...module,
    summary: (ctx) => module.summary(extend(ctx)),
    screen: (params, ctx) => module.screen(params, extend(ctx)),
  };
}

export const MODULES = [
  ...SOCIAL_MODULES.filter((m) => m.id === "feed").map(social),
  announcements,
  forums,
  chat,
  ...SOCIAL_MODULES.filter((m) => m.id !== "feed").map(social),
  social(moderation),
  polls,
  proxies,
  assistant,
];

export const moduleRoutes = Object.fromEntries(MODULES.map((m) => [m.route, (params, ctx) => m.screen(params, ctx)]));

