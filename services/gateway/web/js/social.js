// PLANET social: the member's blog (posts signed in this browser as self-issued
// BlogPostingCredentials), the public reading page that checks a post's signature here, her home
// feed and its rules, introductions and her network, and the personal vault (encrypted here with
// a key only her recovery phrase derives; the server stores ciphertext).

import {
  MEMBER_SIGNING_PATH,
  VC_CONTEXT,
  bytesToHex,
  concat,
  derivePath,
  formatDatetime,
  issueCredential,
  keysFromEd25519Seed,
  normalizePhrase,
  phraseToSeed,
  publicKeyFromDidKey,
  randomHex,
  verifyProofWithKey,
} from "./crypto.js";
import { ApiError, request } from "./api.js";
import { poly1305 } from "./sealed.js";
import { busy, count, download, field, h, shortDid, toast, when } from "./ui.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const POST_TYPE = "BlogPostingCredential";
const DTG_CONTEXT = "https://firstperson.network/credentials/dtg/v1";
const HASHTAG = /^[\p{L}\p{N}][\p{L}\p{N}_-]{0,63}$/u;

function whenNs(ns) {
  return ns ? when(new Date(Number(ns) / 1e6).toISOString()) : "";
}

/** `#Regenerative, food` → ["regenerative", "food"], as services/social normalises them. */
export function parseHashtags(text) {
  const tags = [];
  for (const raw of String(text || "").split(/[\s,]+/)) {
    const tag = raw.normalize("NFKC").trim().replace(/^#+/, "").toLowerCase();
    if (!tag) continue;
    if (!HASHTAG.test(tag)) throw new ApiError(0, "invalid_hashtag", `“${raw}” is not a hashtag (letters, digits, _ and -)`);
    if (!tags.includes(tag)) tags.push(tag);
  }
  if (tags.length > 20) throw new ApiError(0, "invalid_hashtag", "At most 20 hashtags.");
  return tags;
}

/** A readable id from a title, with a random suffix: `Our seed swap` → `our-seed-swap-3fa2c1`. */
export function slug(headline, fallback = "post") {
  const base = headline
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48);
  return `${base || fallback}-${randomHex(3)}`;
}

// -- the signed post -----------------------------------------------------------------------

/** Her post as services/social expects it: the unsigned BlogPosting credential, then its proof. */
export async function signedPost(keys, community, post, { headline, body, hashtags, now = new Date(), published = null }) {
  // A revision keeps the post's first datePublished and says when it changed (schema.org dateModified).
  const signedAt = formatDatetime(now);
  const unsigned = {
    "@context": [VC_CONTEXT],
    id: `urn:cos:${community}:post:${post}`,
    type: ["VerifiableCredential", POST_TYPE],
    issuer: keys.did,
    validFrom: signedAt,
    credentialSubject: {
      id: keys.did,
      type: "BlogPosting",
      identifier: post,
      headline,
      articleBody: body,
      encodingFormat: "text/markdown",
      keywords: hashtags,
      datePublished: published || signedAt,
      ...(published ? { dateModified: signedAt } : {}),
      isPartOf: community,
    },
  };
  return issueCredential(keys, unsigned, now);
}

/** Her RelationshipCredential about `other` (one direction of their trust edge). */
export async function signedRelationship(keys, other, now = new Date()) {
  const unsigned = {
    "@context": [VC_CONTEXT, DTG_CONTEXT],
    type: ["VerifiableCredential", "DTGCredential", "RelationshipCredential"],
    issuer: keys.did,
    validFrom: formatDatetime(now),
    credentialSubject: { id: other },
  };
  return issueCredential(keys, unsigned, now);
}

/** Check a post document in this browser: its did:key signature and what it claims. */
export async function verifyPost(document, { community, post }) {
  const checks = [];
  const check = (name, ok, detail = "") => checks.push({ name, ok, detail });
  const issuer = String(document?.issuer || "");
  const subject = document?.credentialSubject || {};
  let key = null;
  try {
    key = publicKeyFromDidKey(issuer);
  } catch (error) {
    check("Author's key", false, `${issuer} is not a did:key`);
  }
  if (key) {
    const method = String(document.proof?.verificationMethod || "");
    const ownKey = method.split("#")[0] === issuer;
    const ok = ownKey && document.proof?.cryptosuite === "eddsa-jcs-2022" && (await verifyProofWithKey(document, key));
    check("Signature (eddsa-jcs-2022)", ok, ok ? `signed by ${shortDid(issuer)}` : "the signature does not verify");
  }
  const types = [].concat(document?.type || []);
  check("A signed blog post", types.includes(POST_TYPE) && subject.type === "BlogPosting", types.join(", "));
  check(
    "Published here",
    subject.isPartOf === community && document?.id === `urn:cos:${community}:post:${post}` && subject.identifier === post,
    `${subject.isPartOf} · ${subject.identifier}`,
  );
  check("Written by its signer", subject.id === issuer, shortDid(String(subject.id || "")));
  return { valid: checks.every((c) => c.ok), checks };
}

function checksList(result) {
  return h(
    "ul",
    { class: "checks", "data-testid": "post-checks" },
    result.checks.map((c) => h("li", { class: c.ok ? "ok" : "bad" }, `${c.ok ? "✓" : "✗"} ${c.name}`, c.detail ? h("span", { class: "hint" }, ` — ${c.detail}`) : null)),
  );
}

function verdict(result) {
  return h(
    "p",
    { class: result.valid ? "verdict ok" : "verdict bad", "data-testid": "post-verdict", role: "status" },
    result.valid ? "Signature verified in your browser" : "This post does not verify",
  );
}

// -- the public reading page (no key, no sign-in) ---------------------------------------------

/** `#/read?c=<community>[&post=<id>][&author=<did>][&tag=<hashtag>]`: anyone reads, the browser verifies. */
export async function publicBlog(params, ctx) {
  const { richText } = ctx;
  const community = params.get("c") || "";
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(community)) {
    return ctx.render(h("h1", {}, "Not found"), h("p", {}, "This link names no community."));
  }
  const base = `/c/${encodeURIComponent(community)}`;
  const profile = await request("GET", base).catch(() => ({ name: community }));
  const id = params.get("post");
  if (id) {
    const found = await request("GET", `${base}/blog/${encodeURIComponent(id)}`);
    const result = await verifyPost(found.document, { community, post: id });
    return ctx.render(
      h("p", { class: "hint" }, profile.name),
      h("h1", {}, found.headline),
      h("p", { class: "hint" }, `by ${shortDid(found.author)} · ${whenNs(found.at)}${edited(found)}`, " ", found.hashtags.map((t) => h("span", { class: "badge" }, `#${t}`))),
      verdict(result),
      h("article", { class: "card" }, richText(found.html, found.body)),
      h("details", { class: "card" }, h("summary", {}, "How this was checked"), checksList(result),
        h("p", { class: "hint" }, "Checked here against the author's own key (did:key); no server is trusted. Save the signed document and run ",
          h("code", {}, "cos vc verify"), " to check it again.")),
      h("p", {}, h("a", { href: `${base}/blog/${encodeURIComponent(id)}/document`, download: `${id}.json` }, "The signed document"), " · ",
        h("a", { href: `#/read?c=${encodeURIComponent(community)}` }, `All posts in ${profile.name}`)),
    );
  }
  const query = new URLSearchParams();
  if (params.get("author")) query.set("author", params.get("author"));
  if (params.get("tag")) query.set("hashtag", params.get("tag"));
  const listed = await request("GET", `${base}/blog?${query}`);
  ctx.render(
    h("h1", {}, `${profile.name}: blog`),
    listed.posts.length
      ? h("ul", { class: "list", "data-testid": "blog-posts" }, listed.posts.map((p) => postRow(p, `#/read?c=${encodeURIComponent(community)}&post=${encodeURIComponent(p.post)}`)))
      : h("p", { class: "card" }, "Nothing published yet."),
  );
}

function postRow(p, href, author = shortDid(p.author)) {
  return h("li", { class: "card" },
    h("h2", {}, h("a", { href }, p.headline)),
    h("p", { class: "hint" }, `${author} · ${whenNs(p.at)}${edited(p)} · ${count(p.comments, "comment")}`),
    h("p", {}, plainText(p.excerpt || "")),
    p.hashtags.length ? h("p", {}, p.hashtags.map((t) => h("span", { class: "badge" }, `#${t}`))) : null);
}

// -- the blog, for members ------------------------------------------------------------------

/** The form that writes a new post, or (given `revising`, the post as read) signs a revision of it. */
function writeForm(ctx, done, revising = null) {
  const out = h("div", { "aria-live": "polite" });
  const headline = field("Headline", { name: "headline", required: true, maxlength: 300, value: revising?.headline || "" });
  const body = field("Post (Markdown)", { name: "body", rows: 8 }, { as: "textarea" });
  const tags = field("Hashtags", { name: "hashtags", autocomplete: "off", value: (revising?.hashtags || []).map((t) => `#${t}`).join(" ") },
    { hint: "Separated by spaces or commas, e.g. #gardening food" });
  const submit = h("button", { type: "submit" }, revising ? "Sign and save the revision" : "Sign and publish");
  const form = h("form", { class: "card", "aria-label": revising ? "Edit this post" : "Write a post" },
    h("h2", {}, revising ? "Edit this post" : "Write a post"), headline, body, tags, submit,
    h("p", { class: "hint" }, revising
      ? "The revision is signed anew with your key; readers see that it was edited and when."
      : "Signed in this browser with your key: anyone can check you wrote it, and no one can change it."), out);
  if (revising) form.body.value = revising.body;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const hashtags = parseHashtags(form.hashtags.value);
      const text = form.headline.value.trim();
      if (!text) throw new ApiError(0, "headline_required", "A post needs a headline.");
      const content = { headline: text, body: form.body.value, hashtags };
      if (revising) {
        const same = text === revising.headline && content.body === revising.body && hashtags.join(" ") === revising.hashtags.join(" ");
        if (same) throw new ApiError(0, "unchanged", "Nothing changed: edit the headline, the text or the hashtags first.");
        const published = revising.document?.credentialSubject?.datePublished || null;
        const document = await signedPost(ctx.app.keys, ctx.app.community, revising.post, { ...content, published });
        await ctx.session.act("/social/revise_post", "social.revise_post", { post: revising.post, document });
        toast("Revision signed and saved.");
        return done(revising.post);
      }
      const post = slug(text);
      const document = await signedPost(ctx.app.keys, ctx.app.community, post, content);
      await ctx.session.act("/social/publish_post", "social.publish_post", { post, document });
      toast("Published and signed.");
      done(post);
    }, out);
  });
  return form;
}

/** "· edited <when>" after a post's date, when its author revised it. */
function edited(p) {
  return p.revised_at ? ` · edited ${whenNs(p.revised_at)}` : "";
}

function commentTree(ctx, post, comments, names, reload) {
  const children = new Map();
  for (const c of comments) {
    const parent = c.reply_to || "";
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(c);
  }
  const branch = (parent) => {
    const rows = children.get(parent) || [];
    if (!rows.length) return null;
    return h("ol", { class: "list comments" }, rows.map((c) => {
      const reply = h("button", { type: "button", class: "link" }, "Reply");
      const li = h("li", { class: "comment", dataset: { comment: c.comment } },
        h("p", { class: "hint" }, `${names(c.by)}${c.by_author ? " (author)" : ""} · ${whenNs(c.at)}`),
        ctx.richText(c.html, c.text), reply, branch(c.comment));
      reply.addEventListener("click", () => {
        if (li.querySelector("form")) return;
        li.insertBefore(commentForm(ctx, post, c.comment, reload, `Reply to ${names(c.by)}`), reply.nextSibling);
        li.querySelector("textarea").focus();
      });
      return li;
    }));
  };
  return branch("");
}

function commentForm(ctx, post, replyTo, reload, label = "Your comment") {
  const out = h("div", { "aria-live": "polite" });
  const text = field(label, { name: "text", rows: 3, required: true }, { as: "textarea" });
  const submit = h("button", { type: "submit" }, replyTo ? "Sign and reply" : "Sign and comment");
  const form = h("form", { class: "card composer" }, text, submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const body = { post, text: form.text.value };
      if (replyTo) body.reply_to = replyTo;
      await ctx.session.act("/social/comment", "social.comment", body);
      await reload();
    }, out);
  });
  return form;
}

async function following(ctx) {
  const exported = await ctx.session.get("/me/feed/definition");
  return new Map(exported.definition.follows.map((f) => [f.author, f.hashtags]));
}

function followBox(ctx, author, follows, reload) {
  const out = h("div", { "aria-live": "polite" });
  if (author === ctx.app.keys.did) return null;
  const current = follows.get(author);
  const tags = field("Only these hashtags (empty: everything)", { name: "hashtags", value: (current || []).join(" "), autocomplete: "off" });
  const follow = h("button", { type: "submit" }, current ? "Update follow" : "Follow");
  const unfollow = current ? h("button", { type: "button", class: "secondary" }, "Unfollow") : null;
  const form = h("form", { class: "card", "aria-label": "Follow" }, h("h2", {}, current ? "You follow this author" : "Follow this author"), tags, h("div", { class: "row" }, follow, unfollow), out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(follow, async () => {
      await ctx.session.act("/social/follow", "social.follow", { author, hashtags: parseHashtags(form.hashtags.value) });
      toast("Following.");
      await reload();
    }, out);
  });
  unfollow?.addEventListener("click", () => busy(unfollow, async () => {
    await ctx.session.act("/social/unfollow", "social.unfollow", { author });
    toast("Unfollowed.");
    await reload();
  }, out));
  return form;
}

async function postScreen(ctx, id) {
  const s = ctx.session;
  const [found, comments, follows] = await Promise.all([
    s.get(`/blog/${encodeURIComponent(id)}`),
    s.get(`/blog/${encodeURIComponent(id)}/comments`),
    following(ctx),
  ]);
  const result = await verifyPost(found.document, { community: ctx.app.community, post: id });
  const names = new Map();
  for (const did of new Set([found.author, ...comments.comments.map((c) => c.by)])) names.set(did, await ctx.nameOf(did));
  const name = (did) => names.get(did) || shortDid(did);
  const reload = () => postScreen(ctx, id);
  const mine = found.author === ctx.app.keys.did;
  const withdraw = mine ? h("button", { type: "button", class: "secondary" }, "Withdraw this post") : null;
  const edit = mine ? h("button", { type: "button", class: "secondary", "aria-expanded": "false" }, "Edit this post") : null;
  const editing = h("div", {});
  edit?.addEventListener("click", () => {
    if (editing.firstChild) {
      editing.replaceChildren();
      edit.setAttribute("aria-expanded", "false");
      return;
    }
    editing.replaceChildren(writeForm(ctx, () => postScreen(ctx, id), found));
    edit.setAttribute("aria-expanded", "true");
    editing.querySelector("input").focus();
  });
  const out = h("div", { "aria-live": "polite" });
  withdraw?.addEventListener("click", () => busy(withdraw, async () => {
    if (!confirm("Withdraw this post? Readers will no longer see it.")) return;
    await s.act("/social/withdraw_post", "social.withdraw_post", { post: id });
    toast("Withdrawn.");
    ctx.go("/blog");
  }, out));
  const publicLink = `${location.origin}${location.pathname}#/read?c=${encodeURIComponent(ctx.app.community)}&post=${encodeURIComponent(id)}`;
  ctx.render(
    h("h1", {}, found.headline),
    h("p", { class: "hint" }, `by ${name(found.author)} · ${whenNs(found.at)}${edited(found)} `, found.hashtags.map((t) => h("a", { class: "badge", href: `#/blog?tag=${encodeURIComponent(t)}` }, `#${t}`))),
    verdict(result),
    h("article", { class: "card" }, ctx.richText(found.html, found.body)),
    edit ? h("p", {}, edit) : null,
    editing,
    h("details", { class: "card" }, h("summary", {}, "How this was checked"), checksList(result)),
    h("p", {}, h("a", { href: publicLink }, "Public page"), " · ", h("a", { href: `#/blog?author=${encodeURIComponent(found.author)}` }, `More by ${name(found.author)}`)),
    followBox(ctx, found.author, follows, reload),
    h("section", { "aria-label": "Comments" }, h("h2", {}, `Comments (${comments.comments.length})`),
      h("div", { "data-testid": "comments" }, commentTree({ ...ctx }, id, comments.comments, name, reload) || h("p", { class: "hint" }, "No comments yet.")),
      commentForm(ctx, id, "", reload)),
    withdraw ? h("div", { class: "card" }, withdraw, out) : null,
    h("p", {}, h("a", { href: "#/blog" }, "All posts")),
  );
}

async function blogScreen(params, ctx) {
  if (params.get("post")) return postScreen(ctx, params.get("post"));
  const query = new URLSearchParams();
  if (params.get("author")) query.set("author", params.get("author"));
  if (params.get("tag")) query.set("hashtag", params.get("tag"));
  const listed = await ctx.session.get(`/blog?${query}`);
  const rows = [];
  for (const p of listed.posts) rows.push(postRow(p, `#/blog?post=${encodeURIComponent(p.post)}`, await ctx.nameOf(p.author)));
  const filtered = params.get("author") || params.get("tag");
  ctx.render(
    h("h1", {}, "Blog"),
    filtered ? h("p", {}, `Showing ${params.get("tag") ? `#${params.get("tag")}` : `posts by ${await ctx.nameOf(params.get("author"))}`} · `, h("a", { href: "#/blog" }, "everything")) : null,
    writeForm(ctx, (post) => ctx.go(`/blog?post=${encodeURIComponent(post)}`)),
    rows.length ? h("ul", { class: "list", "data-testid": "blog-posts" }, rows) : h("p", { class: "card" }, "Nothing published yet."),
    h("p", {}, h("a", { href: `#/read?c=${encodeURIComponent(ctx.app.community)}` }, "The public blog page")),
  );
}

// -- the home feed and its rules ------------------------------------------------------------

function definitionForm(ctx, definition, shared, reload) {
  const out = h("div", { "aria-live": "polite" });
  const follows = definition.follows.map((f, i) =>
    h("li", { class: "member" }, h("span", {}, ctx.names(f.author)), " ",
      field(`Hashtags for ${ctx.names(f.author)}`, { name: `tags-${i}`, value: f.hashtags.join(" "), autocomplete: "off" }),
      h("div", { class: "check" }, h("input", { type: "checkbox", id: `keep-${i}`, name: `keep-${i}`, checked: true }), h("label", { for: `keep-${i}` }, "Keep following"))));
  const check = (name, label, checked) => h("div", { class: "check" }, h("input", { type: "checkbox", id: `mix-${name}`, name, checked }), h("label", { for: `mix-${name}` }, label));
  const name = field("Feed name", { name: "name", value: definition.name, maxlength: 100, required: true });
  const hops = field("Trust", { name: "hops" }, { as: "select", options: [["0", "Anyone I follow"], ...[1, 2, 3, 4, 5, 6].map((n) => [String(n), `Only people within ${n} hop${n > 1 ? "s" : ""} of my network`])] });
  hops.querySelector("select").value = String(definition.trust.max_hops);
  const submit = h("button", { type: "submit" }, "Sign and save my feed");
  const form = h("form", { class: "card" }, h("h2", {}, "Feed rules"), name,
    follows.length ? h("fieldset", {}, h("legend", {}, "Whom you follow"), h("ul", { class: "list" }, follows)) : h("p", { class: "hint" }, "You follow no one yet: follow authors from their posts."),
    h("fieldset", {}, h("legend", {}, "Content mix"), check("posts", "Blog posts", definition.mix.posts), check("announcements", "Announcements", definition.mix.announcements), check("discussions", "Forum discussions", definition.mix.discussions)),
    hops, check("share", "Let the community's members see and adopt this feed", shared), submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const kept = definition.follows
        .map((f, i) => (form[`keep-${i}`].checked ? { author: f.author, hashtags: parseHashtags(form[`tags-${i}`].value) } : null))
        .filter(Boolean);
      const next = {
        ...definition,
        name: form.name.value.trim(),
        follows: kept,
        mix: { posts: form.posts.checked, announcements: form.announcements.checked, discussions: form.discussions.checked },
        trust: { max_hops: Number(form.hops.value) },
      };
      await ctx.session.act("/social/configure_feed", "social.configure_feed", { definition: next, replace_follows: true, share: form.share.checked });
      toast("Feed saved.");
      await reload();
    }, out);
  });
  return form;
}

function importForm(ctx, reload) {
  const out = h("div", { "aria-live": "polite" });
  const text = field("Feed definition (JSON)", { name: "definition", rows: 4 }, { as: "textarea", hint: "Paste an exported definition, or choose its file." });
  const file = field("Definition file", { name: "file", type: "file", accept: ".json,application/json" });
  const replace = h("div", { class: "check" }, h("input", { type: "checkbox", id: "replace-follows", name: "replace" }), h("label", { for: "replace-follows" }, "Replace whom I follow (otherwise add to it)"));
  const submit = h("button", { type: "submit", class: "secondary" }, "Sign and import");
  const form = h("form", { class: "card" }, h("h2", {}, "Import a feed"), text, file, replace, submit, out);
  form.file.addEventListener("change", async () => {
    const chosen = form.file.files[0];
    if (chosen) form.definition.value = await chosen.text();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      let definition;
      try {
        definition = JSON.parse(form.definition.value);
        if (definition && typeof definition === "object" && definition.definition) definition = definition.definition;
      } catch {
        throw new Error("that is not JSON: paste the exported feed definition");
      }
      await ctx.session.act("/social/configure_feed", "social.configure_feed", { definition, replace_follows: form.replace.checked });
      toast("Feed imported.");
      await reload();
    }, out);
  });
  return form;
}

async function feedScreen(params, ctx) {
  const reload = () => feedScreen(params, ctx);
  if (params.get("from")) {
    const shared = (await ctx.session.get(`/feeds/${encodeURIComponent(params.get("from"))}`)).definition;
    const text = JSON.stringify(shared, null, 2);
    const adopt = h("button", { type: "button" }, "Sign and adopt this feed");
    const out = h("div", { "aria-live": "polite" });
    adopt.addEventListener("click", () => busy(adopt, async () => {
      await ctx.session.act("/social/configure_feed", "social.configure_feed", { definition: shared, replace_follows: true });
      toast("Feed adopted.");
      ctx.go("/feed");
    }, out));
    return ctx.render(h("h1", {}, `${await ctx.nameOf(params.get("from"))}'s feed`), h("pre", { class: "result" }, text), adopt, out);
  }
  const [feed, exported, network] = await Promise.all([
    ctx.session.get("/me/feed"),
    ctx.session.get("/me/feed/definition"),
    ctx.session.get("/me/network").catch(() => null),
  ]);
  const names = new Map();
  for (const did of new Set([...feed.items.map((i) => i.by), ...feed.definition.follows.map((f) => f.author)])) names.set(did, await ctx.nameOf(did));
  const local = { ...ctx, names: (did) => names.get(did) || shortDid(did) };
  const link = (item) =>
    item.kind === "post" ? `#/blog?post=${encodeURIComponent(item.id)}`
      : item.kind === "announcement" ? `#/announcements?a=${encodeURIComponent(item.id)}`
        : `#/forums?thread=${encodeURIComponent(item.thread || item.id)}`;
  const items = feed.items.map((item) => h("li", { class: "card", dataset: { kind: item.kind } },
    h("p", { class: "hint" }, `${item.kind} · ${local.names(item.by)} · ${whenNs(item.at)}`),
    h("h2", {}, h("a", { href: link(item) }, item.title || "(untitled)")),
    item.excerpt ? h("p", {}, plainText(item.excerpt)) : null));
  const exportButton = h("button", { type: "button", class: "secondary" }, "Export my feed definition");
  exportButton.addEventListener("click", () => download("feed-definition.json", JSON.stringify(exported.definition, null, 2)));
  const shared = Boolean(exported.shared);
  ctx.render(
    h("h1", {}, "Feed"),
    feed.definition.name ? h("p", { class: "hint" }, `Your feed “${feed.definition.name}”, as you set it up below.`) : null,
    items.length ? h("ol", { class: "list", "data-testid": "feed" }, items) : h("p", { class: "card", "data-testid": "feed" }, "Your feed is empty: follow people from their posts, or change the mix below."),
    feed.next ? h("p", { class: "hint" }, "Older items are further back.") : null,
    definitionForm(local, feed.definition, shared, reload),
    h("div", { class: "card" }, exportButton, h("p", { class: "hint" }, "A definition is a JSON file: share it, and others can import it.")),
    importForm(ctx, reload),
    network && Object.keys(network.hops).length ? h("p", { class: "hint" }, `Your network: ${Object.entries(network.hops).map(([hop, dids]) => `${dids.length} at ${count(hop, "hop")}`).join(", ")}.`) : null,
  );
}

/** An excerpt of Markdown as the words a reader sees: no asterisks, hashes or link syntax. */
export function plainText(markdown) {
  return markdown
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/(\*\*|\*|~~|`)(\S(?:.*?\S)?)\1/g, "$2")
    .replace(/(^|\W)(__|_)(\S(?:.*?\S)?)\2(?=\W|$)/g, "$1$3")
    .replace(/^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+/gm, "")
    .replace(/\s+/g, " ")
    .trim();
}

// -- introductions and the network ----------------------------------------------------------

function chatRequest(ctx, intro) {
  const members = [...intro.people, ...(intro.introducer_left ? [] : [intro.introducer])].sort();
  return ctx.session.sign("messaging.create_conversation", {
    kind: "group",
    name: "Introduction",
    members,
    conversation: `intro-${intro.introduction}`,
  });
}

async function answer(ctx, id, consent, reason = "") {
  const intro = await ctx.session.get(`/introductions/${encodeURIComponent(id)}`);
  const body = { introduction: id, consent };
  if (consent) {
    const other = intro.people.find((p) => p !== ctx.app.keys.did);
    body.relationship = await signedRelationship(ctx.app.keys, other);
    body.chat = await chatRequest(ctx, intro); // every consent carries it: the last one opens the chat
  } else if (reason) {
    body.reason = reason;
  }
  return ctx.session.act("/social/answer_introduction", "social.answer_introduction", body);
}

function introCard(ctx, intro, name, reload) {
  const me = ctx.app.keys.did;
  const other = intro.people.find((p) => p !== me);
  const out = h("div", { "aria-live": "polite" });
  const mine = intro.answers[me];
  const parts = [
    h("p", {}, `${name(intro.introducer)} introduced you to `, h("strong", {}, name(other)), "."),
    intro.note ? h("blockquote", {}, intro.note) : null,
    h("p", {}, h("span", { class: "badge" }, intro.status), intro.chat_status ? ` chat ${intro.chat_status}` : ""),
  ];
  if (intro.status === "proposed" && mine === undefined) {
    const yes = h("button", { type: "button" }, "Consent");
    const no = h("button", { type: "button", class: "secondary" }, "Decline");
    yes.addEventListener("click", () => busy(yes, async () => {
      await answer(ctx, intro.introduction, true);
      toast("You consented.");
      await reload();
    }, out));
    no.addEventListener("click", () => busy(no, async () => {
      await answer(ctx, intro.introduction, false);
      toast("Declined.");
      await reload();
    }, out));
    parts.push(h("div", { class: "row" }, yes, no));
  } else if (intro.status === "proposed") {
    parts.push(h("p", { class: "hint" }, `You ${mine ? "consented" : "declined"}; waiting for ${name(other)}.`));
  }
  if (intro.status === "connected") {
    if (intro.chat) parts.push(h("p", {}, h("a", { href: `#/chat?conversation=${encodeURIComponent(intro.chat)}` }, "Open the introduction chat")));
    const rated = intro.ratings[me];
    const rating = field("How valuable was this introduction?", { name: "value" }, { as: "select", options: [["5", "5 — very"], ["4", "4"], ["3", "3"], ["2", "2"], ["1", "1 — not at all"]] });
    if (rated) rating.querySelector("select").value = String(rated);
    const rate = h("button", { type: "submit", class: "secondary" }, rated ? "Change my rating" : "Rate");
    const form = h("form", { class: "row" }, rating, rate);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(rate, async () => {
        await ctx.session.act("/social/rate_introduction", "social.rate_introduction", { introduction: intro.introduction, value: Number(form.value.value) });
        toast("Thank you.");
        await reload();
      }, out);
    });
    parts.push(form);
  }
  parts.push(out);
  return h("li", { class: "card", dataset: { introduction: intro.introduction } }, parts);
}

function proposeForm(ctx, others, reload) {
  const out = h("div", { "aria-live": "polite" });
  const options = others.map((m) => [m.did, m.name]);
  const first = field("Introduce", { name: "first" }, { as: "select", options });
  const second = field("To", { name: "second" }, { as: "select", options });
  if (options.length > 1) second.querySelector("select").value = options[1][0];
  const note = field("Why they should meet", { name: "note", rows: 3, maxlength: 2000 }, { as: "textarea" });
  const submit = h("button", { type: "submit" }, "Sign and introduce");
  const form = h("form", { class: "card" }, h("h2", {}, "Introduce two members"), first, second, note, submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      if (form.first.value === form.second.value) throw new Error("choose two different people");
      await ctx.session.act("/social/propose_introduction", "social.propose_introduction", {
        introduction: `i-${randomHex(8)}`,
        first: form.first.value,
        second: form.second.value,
        note: form.note.value.trim(),
      });
      toast("Introduction sent: both are asked to consent.");
      await reload();
    }, out);
  });
  return form;
}

async function networkScreen(_params, ctx) {
  const reload = () => networkScreen(_params, ctx);
  const [network, directory] = await Promise.all([
    ctx.session.get("/me/network"),
    ctx.session.get("/directory?status=active").catch(() => ({ members: [] })),
  ]);
  const names = new Map(directory.members.filter((m) => m.did).map((m) => [m.did, m.name]));
  const name = (did) => names.get(did) || shortDid(did);
  const contacts = network.contacts.map((c) => h("li", { class: "member", dataset: { status: c.status } },
    h("strong", {}, name(c.did)), " ", h("span", { class: "badge" }, c.status),
    c.status === "pending" ? h("span", { class: "hint" }, c.waiting_for === ctx.app.keys.did ? " waiting for you" : c.waiting_for === "both" ? " waiting for both" : ` waiting for ${name(c.waiting_for)}`) : null));
  const received = network.introductions_received.map((i) => introCard(ctx, i, name, reload));
  const made = network.introductions_made.map((i) => h("li", { class: "card" },
    h("p", {}, `${name(i.people[0])} and ${name(i.people[1])} `, h("span", { class: "badge" }, i.status)),
    i.value != null ? h("p", { class: "hint" }, `Rated ${i.value.toFixed(1)} of 5; led to ${count(i.ripple.connections.length, "further connection")} and ${count(i.ripple.introductions.length, "introduction")}.`) : null));
  const invites = network.invites?.contacts ?? network.invites?.invites ?? [];
  ctx.render(
    h("h1", {}, "Network"),
    h("section", {}, h("h2", {}, "Your contacts"), contacts.length ? h("ul", { class: "list", "data-testid": "contacts" }, contacts) : h("p", { class: "card" }, "No contacts yet.")),
    received.length ? h("section", {}, h("h2", {}, "Introductions to you"), h("ol", { class: "list", "data-testid": "introductions" }, received)) : null,
    made.length ? h("section", {}, h("h2", {}, "Introductions you made"), h("ol", { class: "list" }, made)) : null,
    Object.keys(network.hops).length ? h("p", { class: "hint" }, Object.entries(network.hops).map(([hop, dids]) => `${dids.length} within ${count(hop, "hop")}`).join(" · ")) : null,
    Array.isArray(invites) && invites.length
      ? h("section", {}, h("h2", {}, "People you invited or who invited you"), h("ul", { class: "list", "data-testid": "invite-contacts" },
          invites.map((c) => h("li", { class: "member", dataset: { status: c.status } }, h("strong", {}, c.name || (c.did ? name(c.did) : "invitee")), " ", h("span", { class: "badge" }, c.status)))))
      : null,
    proposeForm(ctx, directory.members.filter((m) => m.did && m.did !== ctx.app.keys.did), reload),
  );
}

// -- the vault: XChaCha20-Poly1305 under keys derived from the phrase -------------------------

const VAULT_PATH = "m/26'/1'/0'/0'";

function rotl(v, n) {
  return ((v << n) | (v >>> (32 - n))) >>> 0;
}

function quarter(s, a, b, c, d) {
  s[a] = (s[a] + s[b]) >>> 0; s[d] = rotl(s[d] ^ s[a], 16);
  s[c] = (s[c] + s[d]) >>> 0; s[b] = rotl(s[b] ^ s[c], 12);
  s[a] = (s[a] + s[b]) >>> 0; s[d] = rotl(s[d] ^ s[a], 8);
  s[c] = (s[c] + s[d]) >>> 0; s[b] = rotl(s[b] ^ s[c], 7);
}

function chachaState(key, counter, nonce12) {
  const kv = new DataView(key.buffer, key.byteOffset, 32);
  const nv = new DataView(nonce12.buffer, nonce12.byteOffset, 12);
  const s = new Uint32Array(16);
  s.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
  for (let i = 0; i < 8; i++) s[4 + i] = kv.getUint32(4 * i, true);
  s[12] = counter;
  for (let i = 0; i < 3; i++) s[13 + i] = nv.getUint32(4 * i, true);
  return s;
}

function rounds(s) {
  for (let i = 0; i < 10; i++) {
    quarter(s, 0, 4, 8, 12); quarter(s, 1, 5, 9, 13); quarter(s, 2, 6, 10, 14); quarter(s, 3, 7, 11, 15);
    quarter(s, 0, 5, 10, 15); quarter(s, 1, 6, 11, 12); quarter(s, 2, 7, 8, 13); quarter(s, 3, 4, 9, 14);
  }
}

/** RFC 8439 ChaCha20: `data` XORed with the key stream from block `counter`. */
export function chacha20(key, nonce12, counter, data) {
  const out = new Uint8Array(data.length);
  const block = new Uint8Array(64);
  const bv = new DataView(block.buffer);
  for (let offset = 0, n = counter; offset < data.length; offset += 64, n++) {
    const init = chachaState(key, n >>> 0, nonce12);
    const s = init.slice();
    rounds(s);
    for (let i = 0; i < 16; i++) bv.setUint32(4 * i, (s[i] + init[i]) >>> 0, true);
    const end = Math.min(64, data.length - offset);
    for (let i = 0; i < end; i++) out[offset + i] = data[offset + i] ^ block[i];
  }
  return out;
}

/** HChaCha20 (draft-irtf-cfrg-xchacha): a sub-key from the key and the nonce's first 16 bytes. */
export function hchacha20(key, nonce16) {
  const s = chachaState(key, 0, new Uint8Array(12));
  const nv = new DataView(nonce16.buffer, nonce16.byteOffset, 16);
  for (let i = 0; i < 4; i++) s[12 + i] = nv.getUint32(4 * i, true);
  rounds(s);
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) ov.setUint32(4 * i, s[i], true);
  for (let i = 0; i < 4; i++) ov.setUint32(16 + 4 * i, s[12 + i], true);
  return out;
}

function pad16(n) {
  return new Uint8Array((16 - (n % 16)) % 16);
}

function le64(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

function aeadParts(key, nonce24) {
  const subkey = hchacha20(key, nonce24.subarray(0, 16));
  const nonce12 = concat(new Uint8Array(4), nonce24.subarray(16, 24));
  const polyKey = chacha20(subkey, nonce12, 0, new Uint8Array(32));
  return { subkey, nonce12, polyKey };
}

function tagOf(polyKey, ad, cipher) {
  return poly1305(concat(ad, pad16(ad.length), cipher, pad16(cipher.length), le64(ad.length), le64(cipher.length)), polyKey);
}

/** crypto_aead_xchacha20poly1305_ietf_encrypt: ciphertext || 16-byte tag. */
export function xchachaSeal(plaintext, ad, nonce24, key) {
  const { subkey, nonce12, polyKey } = aeadParts(key, nonce24);
  const cipher = chacha20(subkey, nonce12, 1, plaintext);
  return concat(cipher, tagOf(polyKey, ad, cipher));
}

export function xchachaOpen(sealed, ad, nonce24, key) {
  if (sealed.length < 16) throw new Error("too short");
  const cipher = sealed.subarray(0, sealed.length - 16);
  const { subkey, nonce12, polyKey } = aeadParts(key, nonce24);
  const expected = tagOf(polyKey, ad, cipher);
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= expected[i] ^ sealed[sealed.length - 16 + i];
  if (diff) throw new Error("does not open");
  return chacha20(subkey, nonce12, 1, cipher);
}

async function hkdf(ikm, info) {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: enc.encode(info) }, key, 256);
  return new Uint8Array(bits);
}

function b64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function unb64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

async function sha256Hex(bytes) {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** The vault keys of a phrase, as services/social/client/vault_crypto.VaultKeys.from_phrase. */
export async function vaultKeys(phrase, did) {
  const seed = await phraseToSeed(normalizePhrase(phrase));
  try {
    const signing = await derivePath(seed, MEMBER_SIGNING_PATH);
    const own = await keysFromEd25519Seed(signing.privateKey);
    signing.privateKey.fill(0);
    if (did && own.did !== did) throw new Error("this recovery phrase belongs to another key than this device's");
    const root = (await derivePath(seed, VAULT_PATH)).privateKey;
    const encryption = await hkdf(root, "cos-vault/v1/encryption");
    const ids = await crypto.subtle.importKey("raw", await hkdf(root, "cos-vault/v1/item-ids"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    root.fill(0);
    return { did: own.did, encryption, ids };
  } finally {
    seed.fill(0);
  }
}

export async function vaultItemId(keys, name) {
  return bytesToHex(new Uint8Array(await crypto.subtle.sign("HMAC", keys.ids, enc.encode(name)))).slice(0, 48);
}

function associatedData(keys, community, item, version) {
  return enc.encode(`cos-vault/v1\n${community}\n${keys.did}\n${item}\n${version}`);
}

/** One vault item version sealed: {item, ciphertext, nonce} (base64), as VaultKeys.seal. */
export async function vaultSeal(keys, community, { name, kind, content, mediaType = "application/octet-stream" }, version) {
  const item = await vaultItemId(keys, name);
  const plain = enc.encode(JSON.stringify({ name, kind, mediaType, content: b64(content) }));
  const nonce = crypto.getRandomValues(new Uint8Array(24));
  const sealed = xchachaSeal(plain, associatedData(keys, community, item, version), nonce, keys.encryption);
  return { item, ciphertext: b64(sealed), nonce: b64(nonce) };
}

export function vaultOpen(keys, community, item, version, ciphertext, nonce) {
  let opened;
  try {
    opened = xchachaOpen(unb64(ciphertext), associatedData(keys, community, item, version), unb64(nonce), keys.encryption);
  } catch {
    throw new Error(`vault item ${item.slice(0, 8)}… version ${version} does not open with this phrase`);
  }
  const fields = JSON.parse(dec.decode(opened));
  return {
    name: String(fields.name),
    kind: String(fields.kind),
    mediaType: String(fields.mediaType || "application/octet-stream"),
    content: unb64(fields.content),
    parts: (fields.parts || []).map(([i, v, d]) => [String(i), Number(v), String(d)]),
  };
}

const PART_BYTES = 64 * 1024;

/** The vault of this device's member, spoken through signed `social.vault_*` acts. */
class Vault {
  constructor(ctx, keys) {
    this.ctx = ctx;
    this.keys = keys;
    this.community = ctx.app.community;
  }

  act(action, body) {
    return this.ctx.session.act(`/social/${action}`, `social.${action}`, body);
  }

  async listing() {
    const listed = await this.act("vault_list", {});
    return new Map(listed.items.map((e) => [e.item, { version: Number(e.version), deleted: Boolean(e.deleted) }]));
  }

  async getItem(item, version = null) {
    const found = await this.act("vault_get", version == null ? { item } : { item, version });
    return { item, version: Number(found.version), plain: vaultOpen(this.keys, this.community, item, found.version, found.ciphertext, found.nonce) };
  }

  async assembled(entry) {
    if (!entry.plain.parts.length) return entry;
    const pieces = [];
    for (const [item, version, digest] of entry.plain.parts) {
      const piece = (await this.getItem(item, version)).plain.content;
      if ((await sha256Hex(piece)) !== digest) throw new Error(`a part of “${entry.plain.name}” is not the one written`);
      pieces.push(piece);
    }
    return { ...entry, plain: { ...entry.plain, content: concat(...pieces), parts: [] } };
  }

  /** Every live item's latest version, decrypted (parts reassembled), as VaultClient.restore. */
  async restore() {
    const listing = await this.listing();
    const entries = [];
    for (const [item, { deleted }] of [...listing].sort()) {
      if (deleted) continue;
      const entry = await this.getItem(item);
      if (entry.plain.kind !== "part") entries.push(await this.assembled(entry));
    }
    return entries;
  }

  async store(plain, versions) {
    const item = await vaultItemId(this.keys, plain.name);
    const current = versions.get(item)?.version ?? 0;
    const sealed = await vaultSeal(this.keys, this.community, plain, current + 1);
    const stored = await this.act("vault_store", { item, expected_version: current, ciphertext: sealed.ciphertext, nonce: sealed.nonce });
    versions.set(item, { version: Number(stored.version), deleted: false });
    return Number(stored.version);
  }

  /** Store the next version of an item (as VaultClient.put; large contents go in parts). */
  async put(plain) {
    const listing = await this.listing();
    const item = await vaultItemId(this.keys, plain.name);
    let previous = [];
    if (listing.has(item) && !listing.get(item).deleted) previous = (await this.getItem(item)).plain.parts.map((p) => p[0]);
    const parts = [];
    if (plain.content.length > PART_BYTES) {
      for (let index = 0; index < plain.content.length; index += PART_BYTES) {
        const piece = plain.content.subarray(index, index + PART_BYTES);
        const part = { name: `${plain.name}\u0000part${index / PART_BYTES}`, kind: "part", content: piece };
        const version = await this.store(part, listing);
        parts.push([await vaultItemId(this.keys, part.name), version, await sha256Hex(piece)]);
      }
      plain = { ...plain, content: new Uint8Array(0), parts };
    }
    const version = await this.storeWithParts(plain, listing);
    const kept = new Set(parts.map((p) => p[0]));
    for (const stale of [...new Set(previous)].sort()) if (!kept.has(stale)) await this.act("vault_delete", { item: stale });
    return version;
  }

  async storeWithParts(plain, listing) {
    if (!plain.parts?.length) return this.store(plain, listing);
    const item = await vaultItemId(this.keys, plain.name);
    const current = listing.get(item)?.version ?? 0;
    const body = { name: plain.name, kind: plain.kind, mediaType: plain.mediaType || "application/octet-stream", content: "", parts: plain.parts };
    const nonce = crypto.getRandomValues(new Uint8Array(24));
    const sealed = xchachaSeal(enc.encode(JSON.stringify(body)), associatedData(this.keys, this.community, item, current + 1), nonce, this.keys.encryption);
    const stored = await this.act("vault_store", { item, expected_version: current, ciphertext: b64(sealed), nonce: b64(nonce) });
    return Number(stored.version);
  }

  async remove(entry) {
    await this.act("vault_delete", { item: entry.item });
    for (const item of new Set(entry.plain.parts.map((p) => p[0]))) await this.act("vault_delete", { item });
  }
}

let unlocked = null; // {community, did, keys}: held in memory for this page only, never stored

function unlockForm(ctx) {
  const out = h("div", { "aria-live": "polite" });
  const phrase = field("Recovery phrase (24 words)", { name: "phrase", rows: 3, autocomplete: "off", autocapitalize: "none", spellcheck: "false" }, { as: "textarea" });
  const submit = h("button", { type: "submit" }, "Open my vault");
  const form = h("form", { class: "card" }, h("p", {}, "Your vault is encrypted in this browser with a key only your recovery phrase gives. The server keeps ciphertext it cannot read; the phrase is not stored."), phrase, submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const keys = await vaultKeys(form.phrase.value, ctx.app.keys.did);
      form.phrase.value = "";
      unlocked = { community: ctx.app.community, did: ctx.app.keys.did, keys };
      await vaultScreen(new URLSearchParams(), ctx);
    }, out);
  });
  return form;
}

function noteForm(ctx, vault, entry, reload, entries = []) {
  const out = h("div", { "aria-live": "polite" });
  const name = field("Name", { name: "name", required: true, maxlength: 200, value: entry?.plain.name ?? "", readonly: entry ? true : undefined });
  const text = field("Note", { name: "text", rows: 6 }, { as: "textarea" });
  if (entry) text.querySelector("textarea").value = dec.decode(entry.plain.content);
  const submit = h("button", { type: "submit" }, entry ? "Encrypt and save" : "Encrypt and store");
  const form = h("form", { class: "card" }, h("h2", {}, entry ? `Edit “${entry.plain.name}”` : "New note"), name, text, submit, out);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const label = form.name.value.trim();
      if (!label) throw Object.assign(new Error("A note needs a name."), { type: "name_required" });
      // A vault item is found by its name: a new note with a taken name would replace that note.
      if (!entry && entries.some((e) => e.plain.name === label)) {
        throw Object.assign(new Error(`You already have “${label}”. Open it with Edit to change it, or choose another name.`), { type: "name_taken" });
      }
      await vault.put({ name: label, kind: entry?.plain.kind ?? "note", mediaType: entry?.plain.mediaType ?? "text/markdown", content: enc.encode(form.text.value) });
      toast("Encrypted and stored.");
      await reload();
    }, out);
  });
  return form;
}

async function vaultScreen(params, ctx) {
  if (!unlocked || unlocked.community !== ctx.app.community || unlocked.did !== ctx.app.keys.did) {
    return ctx.render(h("h1", {}, "Vault"), unlockForm(ctx));
  }
  const vault = new Vault(ctx, unlocked.keys);
  const reload = () => (params.get("item") ? ctx.go("/vault") : vaultScreen(new URLSearchParams(), ctx));
  const entries = await vault.restore();
  const editing = params.get("item") ? entries.find((e) => e.item === params.get("item")) : null;
  const rows = entries.map((entry) => {
    const out = h("div", { "aria-live": "polite" });
    const edit = h("a", { class: "button secondary", href: `#/vault?item=${entry.item}` }, "Edit");
    const save = h("button", { type: "button", class: "secondary" }, "Download");
    const remove = h("button", { type: "button", class: "secondary" }, "Delete");
    save.addEventListener("click", () => download(entry.plain.name, dec.decode(entry.plain.content), entry.plain.mediaType));
    remove.addEventListener("click", () => busy(remove, async () => {
      if (!confirm(`Delete “${entry.plain.name}” from your vault?`)) return;
      await vault.remove(entry);
      toast("Deleted.");
      await reload();
    }, out));
    const text = entry.plain.kind === "file" && !entry.plain.mediaType.startsWith("text/") ? `${entry.plain.content.length} bytes` : dec.decode(entry.plain.content);
    return h("li", { class: "card", dataset: { item: entry.item } },
      h("h2", {}, entry.plain.name), h("p", { class: "hint" }, `${entry.plain.kind} · version ${entry.version}`),
      h("pre", { class: "plain-text" }, text), h("div", { class: "row" }, edit, save, remove), out);
  });
  const lock = h("button", { type: "button", class: "secondary" }, "Lock the vault");
  lock.addEventListener("click", () => {
    unlocked = null;
    ctx.go("/vault");
  });
  ctx.render(
    h("h1", {}, "Vault"),
    h("p", { class: "hint" }, "Decrypted in this browser. Restore it anywhere with your phrase (also with ", h("code", {}, "cos vault restore"), ")."),
    rows.length ? h("ul", { class: "list", "data-testid": "vault-items" }, rows) : h("p", { class: "card", "data-testid": "vault-items" }, "Your vault is empty."),
    noteForm(ctx, vault, editing, reload, entries),
    lock,
  );
}

// -- the modules ----------------------------------------------------------------------------

const SOCIAL = "/c/{community}/social/{act}";

function serves(paths, path) {
  return paths.has ? paths.has(path) : [...paths].includes(path);
}

export const SOCIAL_MODULES = [
  {
    id: "feed",
    title: "Feed",
    route: "/feed",
    available: (paths) => serves(paths, "/c/{community}/me/feed"),
    async summary(ctx) {
      const feed = await ctx.session.get("/me/feed?limit=3").catch(() => ({ items: [] }));
      return h("section", { class: "card" }, h("h2", {}, "Your feed"),
        feed.items.length ? h("ul", {}, feed.items.map((i) => h("li", {}, i.title || i.kind))) : h("p", {}, "Nothing new."),
        h("a", { href: "#/feed" }, "Open your feed"));
    },
    screen: feedScreen,
  },
  {
    id: "blog",
    title: "Blog",
    route: "/blog",
    available: (paths) => serves(paths, SOCIAL),
    async summary() {
      return h("section", { class: "card" }, h("h2", {}, "Blog"), h("p", {}, "Write signed posts, follow people, comment."), h("a", { href: "#/blog" }, "Open the blog"));
    },
    screen: blogScreen,
  },
  {
    id: "network",
    title: "Network",
    route: "/network",
    available: (paths) => serves(paths, "/c/{community}/me/network"),
    async summary(ctx) {
      const network = await ctx.session.get("/me/network").catch(() => null);
      const waiting = network ? network.introductions_received.filter((i) => i.status === "proposed" && i.answers[ctx.app.keys.did] === undefined).length : 0;
      return h("section", { class: "card" }, h("h2", {}, "Network"),
        h("p", {}, waiting ? `${count(waiting, "introduction")} waiting for your answer.` : "Introduce people who should meet."),
        h("a", { href: "#/network" }, "Open your network"));
    },
    screen: networkScreen,
  },
  {
    id: "vault",
    title: "Vault",
    route: "/vault",
    available: (paths) => serves(paths, SOCIAL),
    async summary() {
      return h("section", { class: "card" }, h("h2", {}, "Vault"), h("p", {}, "Private notes and credentials, encrypted on your device."), h("a", { href: "#/vault" }, "Open your vault"));
    },
    screen: vaultScreen,
  },
];
