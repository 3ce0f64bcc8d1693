"""PLANET social in Chromium: a post signed in the browser verifies in Python and on the public page
(no key), followers comment and reply and see it in their feed, a feed definition is imported,
an introduction goes from pending to connected with its chat, and the vault written in the browser
is restored by `cos vault` from the phrase, and the other way round."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from cos.demo import ADMINS, MEMBERS
from services.social.client.vault_crypto import VaultKeys, VaultPlaintext
from shared.trust.credentials import verify_credential
from shared.trust.member_keys import MemberKeys
from shared.trust.recovery import new_phrase
from shared.trust.resolver import default_resolver
from tests.browser.conftest import Browser
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import ask, restore

ROOT = Path(__file__).resolve().parents[2]
SOCIAL = "/app/js/social.js"


def did_of(stack: Stack, name: str) -> str:
    return MemberKeys.from_phrase(stack.phrase(name)).did


def module(browser: Browser, stack: Stack, script: str, arg: Any = None) -> Any:
    """Evaluate `async (s, arg) => …` with the app's social module as `s`."""
    if not browser.page.url.startswith(stack.base):
        browser.page.goto(f"{stack.base}/app/#/")
    return browser.page.evaluate(
        f"async ([arg]) => {{ const s = await import('{SOCIAL}'); return await ({script})(s, arg); }}",
        [arg],
    )


def publish(page: Page, headline: str, body: str, hashtags: str) -> str:
    """Write and sign a post on the blog screen; answers the post's id once its page shows."""
    page.get_by_label("Headline").fill(headline)
    page.get_by_label("Post (Markdown)").fill(body)
    page.get_by_label("Hashtags").fill(hashtags)
    page.get_by_role("button", name="Sign and publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(headline)
    return page.url.split("post=")[1]


def test_vault_encryption_in_the_browser_matches_the_python_client(
    shared_browser: Browser, stack: Stack
) -> None:
    phrase = new_phrase()
    keys = VaultKeys.from_phrase(phrase)
    # Sealed in the browser, opened by the Python client (and the item id is the same HMAC).
    sealed = module(
        shared_browser,
        stack,
        """async (s, phrase) => {
          const keys = await s.vaultKeys(phrase);
          const content = new TextEncoder().encode("Seed swap: tomatoes ✓");
          const item = await s.vaultItemId(keys, "garden/notes");
          const plain = { name: "garden/notes", kind: "note", content, mediaType: "text/plain" };
          const box = await s.vaultSeal(keys, "demo", plain, 3);
          return { did: keys.did, item, ...box };
        }""",
        phrase,
    )
    assert sealed["did"] == keys.member.did
    assert sealed["item"] == keys.item_id("garden/notes")
    opened = keys.open("demo", sealed["item"], 3, sealed["ciphertext"], sealed["nonce"])
    assert opened == VaultPlaintext("garden/notes", "note", "Seed swap: tomatoes ✓".encode(), "text/plain")

    # Sealed by Python, opened in the browser; the wrong version or community does not open.
    item, ciphertext, nonce = keys.seal("demo", VaultPlaintext("ids", "credential", bytes(range(256))), 2)
    got = module(
        shared_browser,
        stack,
        """async (s, [phrase, item, ciphertext, nonce]) => {
          const keys = await s.vaultKeys(phrase);
          const plain = s.vaultOpen(keys, "demo", item, 2, ciphertext, nonce);
          const refused = [];
          for (const [community, version] of [["demo", 3], ["other", 2]]) {
            try { s.vaultOpen(keys, community, item, version, ciphertext, nonce); refused.push(false); }
            catch (error) { refused.push(error.message.includes("does not open")); }
          }
          return { name: plain.name, kind: plain.kind, content: Array.from(plain.content), refused };
        }""",
        [phrase, item, ciphertext, nonce],
    )
    assert got == {"name": "ids", "kind": "credential", "content": list(range(256)), "refused": [True, True]}
    # A phrase of another key is refused before anything is decrypted.
    other = module(
        shared_browser,
        stack,
        """async (s, [phrase, did]) => {
          try { await s.vaultKeys(phrase, did); return "opened"; } catch (error) { return error.message; }
        }""",
        [phrase, MemberKeys.from_phrase(new_phrase()).did],
    )
    assert "another key" in other
    assert shared_browser.errors == []


def test_a_post_signed_in_the_browser_is_verified_followed_commented_and_fed(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    author, reader = MEMBERS[1].name, MEMBERS[2].name
    page = browser.page
    restore(page, stack, stack.phrase(author))
    page.goto(f"{stack.base}/app/#/blog")
    expect(page.get_by_role("heading", level=1)).to_have_text("Blog")
    post = publish(page, "Our first seed swap", "Bring **tomato** seeds on Saturday.", "#Gardening, food")
    expect(page.get_by_test_id("post-verdict")).to_have_text("Signature verified in your browser")
    expect(page.locator("article strong", has_text="tomato")).to_be_visible()
    browser.screenshot("post")

    # The signed document is the author's own BlogPostingCredential: it verifies in Python.
    stored = ask(stack, "social", "post", {"community": "demo", "post": post})
    document = stored["document"]
    assert document["issuer"] == did_of(stack, author)
    assert document["credentialSubject"]["keywords"] == ["gardening", "food"]
    verify_credential(document, default_resolver(), now=datetime.now(tz=UTC))

    # Anyone reads it on the public page, with no key on the device; the browser checks it.
    visitor = new_browser("visitor")
    visitor.page.goto(f"{stack.base}/app/#/read?c=demo&post={post}")
    expect(visitor.page.get_by_role("heading", level=1)).to_have_text("Our first seed swap")
    expect(visitor.page.get_by_test_id("post-verdict")).to_have_text("Signature verified in your browser")
    visitor.screenshot("public-post")
    visitor.page.goto(f"{stack.base}/app/#/read?c=demo")
    expect(visitor.page.get_by_test_id("blog-posts")).to_contain_text("Our first seed swap")

    # A post altered after signing does not verify in the browser.
    tampered = dict(document, credentialSubject=dict(document["credentialSubject"], headline="Changed"))
    verdict = module(
        visitor,
        stack,
        """async (s, doc) =>
          (await s.verifyPost(doc, { community: "demo", post: doc.credentialSubject.identifier })).valid""",
        tampered,
    )
    assert verdict is False

    # A second member follows the author for #food, comments; the author replies.
    other = new_browser("reader")
    restore(other.page, stack, stack.phrase(reader))
    other.page.goto(f"{stack.base}/app/#/blog?post={post}")
    expect(other.page.get_by_test_id("post-verdict")).to_be_visible()
    other.page.get_by_label("Only these hashtags (empty: everything)").fill("food")
    other.page.get_by_role("button", name="Follow", exact=True).click()
    expect(other.page.get_by_role("heading", name="You follow this author")).to_be_visible()
    other.page.get_by_label("Your comment").fill("I will bring *basil* too.")
    other.page.get_by_role("button", name="Sign and comment").click()
    expect(other.page.get_by_test_id("comments")).to_contain_text("I will bring basil too.")

    page.reload()
    expect(page.get_by_test_id("comments")).to_contain_text("I will bring basil too.")
    page.get_by_test_id("comments").get_by_role("button", name="Reply").click()
    page.get_by_label("Reply to").fill("Lovely, see you there.")
    page.get_by_role("button", name="Sign and reply").click()
    expect(page.get_by_test_id("comments").locator("li li")).to_contain_text("Lovely, see you there.")
    browser.screenshot("comments")
    comments = ask(
        stack, "social", "comments", {"community": "demo", "post": post, "member": did_of(stack, reader)}
    )["comments"]
    assert [c["reply_to"] is None for c in comments] == [True, False]

    # Her feed shows the post (she follows the author for #food, which the post carries).
    other.page.goto(f"{stack.base}/app/#/feed")
    expect(other.page.get_by_test_id("feed")).to_contain_text("Our first seed swap")
    other.screenshot("feed")

    # She switches announcements and discussions off and only trusts her network's first hop:
    # the post's author is not in it, so the feed empties, and the rules are kept by the service.
    other.page.get_by_label("Announcements").uncheck()
    other.page.get_by_label("Forum discussions").uncheck()
    other.page.get_by_label("Trust").select_option("1")
    other.page.get_by_role("button", name="Sign and save my feed").click()
    expect(other.page.get_by_test_id("feed")).to_contain_text("Your feed is empty")
    exported = ask(stack, "social", "export_feed", {"community": "demo", "member": did_of(stack, reader)})
    assert exported["definition"]["mix"] == {"posts": True, "announcements": False, "discussions": False}
    assert exported["definition"]["trust"] == {"max_hops": 1}

    # Importing a definition (as exported elsewhere) adds its follows and rules.
    imported = {
        "type": "cos.feed-definition",
        "version": 1,
        "name": "Garden",
        "follows": [{"author": did_of(stack, ADMINS[0].name), "hashtags": ["garden"]}],
        "mix": {"posts": True, "announcements": True, "discussions": False},
        "trust": {"max_hops": 0},
    }
    other.page.get_by_label("Feed definition (JSON)").fill(json.dumps(imported))
    other.page.get_by_role("button", name="Sign and import").click()
    expect(other.page.get_by_text("Your feed “Garden”")).to_be_visible()
    expect(other.page.get_by_test_id("feed")).to_contain_text("Our first seed swap")
    follows = ask(stack, "social", "export_feed", {"community": "demo", "member": did_of(stack, reader)})[
        "definition"
    ]["follows"]
    assert {f["author"]: f["hashtags"] for f in follows} == {
        did_of(stack, author): ["food"],
        did_of(stack, ADMINS[0].name): ["garden"],
    }
    # A definition that is not one is refused with its reason, and nothing changes.
    other.page.get_by_label("Feed definition (JSON)").fill('{"type": "something else"}')
    other.page.get_by_role("button", name="Sign and import").click()
    expect(other.page.locator("[data-type=invalid_feed], [data-type=invalid_request]")).to_be_visible()
    assert browser.errors == []
    assert visitor.errors == []
    assert other.errors == []


def test_the_author_edits_her_post_and_readers_see_the_signed_revision(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    author = MEMBERS[0].name
    page = browser.page
    restore(page, stack, stack.phrase(author))
    page.goto(f"{stack.base}/app/#/blog")
    post = publish(page, "Compost day", "Meet at the allotment at 9.", "garden")
    first = ask(stack, "social", "post", {"community": "demo", "post": post})
    assert (first["revisions"], first["revised_at"]) == (0, None)

    # Her edit form starts from what is published; saving unchanged is refused before signing.
    page.get_by_role("button", name="Edit this post").click()
    form = page.get_by_role("form", name="Edit this post")
    expect(form.get_by_label("Headline")).to_have_value("Compost day")
    expect(form.get_by_label("Post (Markdown)")).to_have_value("Meet at the allotment at 9.")
    expect(form.get_by_label("Hashtags")).to_have_value("#garden")
    form.get_by_role("button", name="Sign and save the revision").click()
    expect(form).to_contain_text("Nothing changed")
    assert ask(stack, "social", "post", {"community": "demo", "post": post})["revisions"] == 0

    form.get_by_label("Headline").fill("Compost day (moved)")
    form.get_by_label("Post (Markdown)").fill("Meet at the allotment at **10**.")
    form.get_by_label("Hashtags").fill("garden soil")
    form.get_by_role("button", name="Sign and save the revision").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compost day (moved)")
    expect(page.get_by_test_id("post-verdict")).to_have_text("Signature verified in your browser")
    expect(page.locator("article strong", has_text="10")).to_be_visible()
    expect(page.get_by_text("edited")).to_be_visible()
    browser.screenshot("revised")

    # The stored revision is her newly signed document: it keeps the first datePublished and says
    # when it was modified, and it verifies in Python.
    revised = ask(stack, "social", "post", {"community": "demo", "post": post})
    assert revised["revisions"] == 1
    assert revised["revised_at"] >= revised["at"]
    subject = revised["document"]["credentialSubject"]
    assert subject["datePublished"] == first["document"]["credentialSubject"]["datePublished"]
    assert subject["dateModified"] >= subject["datePublished"]
    assert (subject["headline"], subject["keywords"]) == ("Compost day (moved)", ["garden", "soil"])
    verify_credential(revised["document"], default_resolver(), now=datetime.now(tz=UTC))

    # A visitor reads the revision, verified and marked as edited; so does the blog list.
    visitor = new_browser("visitor")
    visitor.page.goto(f"{stack.base}/app/#/read?c=demo&post={post}")
    expect(visitor.page.get_by_role("heading", level=1)).to_have_text("Compost day (moved)")
    expect(visitor.page.get_by_test_id("post-verdict")).to_have_text("Signature verified in your browser")
    expect(visitor.page.get_by_text("edited")).to_be_visible()
    visitor.page.goto(f"{stack.base}/app/#/read?c=demo")
    listed = visitor.page.get_by_test_id("blog-posts").locator("li", has_text="Compost day (moved)")
    expect(listed).to_contain_text("edited")

    # Another member sees no edit button on a post that is not hers.
    other = new_browser("other")
    restore(other.page, stack, stack.phrase(MEMBERS[2].name))
    other.page.goto(f"{stack.base}/app/#/blog?post={post}")
    expect(other.page.get_by_test_id("post-verdict")).to_be_visible()
    expect(other.page.get_by_role("button", name="Edit this post")).to_have_count(0)
    assert browser.errors == []
    assert visitor.errors == []
    assert other.errors == []


def test_an_introduction_goes_from_pending_to_connected(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    introducer, first, second = ADMINS[0].name, MEMBERS[0].name, ADMINS[1].name
    page = browser.page
    restore(page, stack, stack.phrase(introducer))
    page.goto(f"{stack.base}/app/#/network")
    expect(page.get_by_role("heading", level=1)).to_have_text("Network")
    page.get_by_label("Introduce", exact=True).select_option(did_of(stack, first))
    page.get_by_label("To", exact=True).select_option(did_of(stack, second))
    page.get_by_label("Why they should meet").fill("You both run a bakery.")
    page.get_by_role("button", name="Sign and introduce").click()
    expect(page.get_by_text("Introductions you made")).to_be_visible()

    one = new_browser("first")
    restore(one.page, stack, stack.phrase(first))
    one.page.goto(f"{stack.base}/app/#/network")
    card = one.page.get_by_test_id("introductions").locator("li", has_text="You both run a bakery.")
    card.get_by_role("button", name="Consent").click()
    expect(card).to_contain_text("waiting for")
    expect(one.page.get_by_test_id("contacts").locator("[data-status=pending]")).to_contain_text(second)
    one.screenshot("pending")

    two = new_browser("second")
    restore(two.page, stack, stack.phrase(second))
    two.page.goto(f"{stack.base}/app/#/network")
    card = two.page.get_by_test_id("introductions").locator("li", has_text="You both run a bakery.")
    card.get_by_role("button", name="Consent").click()
    expect(card.get_by_text("connected", exact=True)).to_be_visible()
    expect(two.page.get_by_test_id("contacts").locator("[data-status=connected]")).to_contain_text(first)
    expect(card.get_by_role("link", name="Open the introduction chat")).to_be_visible()
    card.get_by_label("How valuable was this introduction?").select_option("5")
    card.get_by_role("button", name="Rate").click()
    expect(card.get_by_role("button", name="Change my rating")).to_be_visible()
    two.screenshot("connected")

    network = ask(stack, "social", "network", {"community": "demo", "member": did_of(stack, introducer)})
    made = [m for m in network["introductions_made"] if m["note"] == "You both run a bakery."]
    assert [(m["status"], m["value"]) for m in made] == [("connected", 5.0)]
    # Both consents carried the signed chat request: the group chat of the three is open.
    assert (made[0]["chat_status"], made[0]["chat"]) == ("opened", f"intro-{made[0]['introduction']}")
    assert browser.errors == []
    assert one.errors == []
    assert two.errors == []


def cos_vault(stack: Stack, phrase_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(ROOT / ".venv" / "bin" / "cos"),
        "vault",
        "--nats-url",
        stack.nats_url,
        "--community",
        "demo",
    ]
    if not Path(command[0]).exists():
        command[0:1] = [sys.executable, "-c", "import sys; from cos.cli import main; sys.exit(main())"]
    return subprocess.run(
        [*command, "--phrase-file", str(phrase_file), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_vault_written_in_the_browser_is_restored_by_cos_vault_and_back(
    browser: Browser, stack: Stack, tmp_path: Path
) -> None:
    name = MEMBERS[2].name
    phrase = stack.phrase(name)
    page = browser.page
    restore(page, stack, phrase)
    page.goto(f"{stack.base}/app/#/vault")
    page.get_by_label("Recovery phrase (24 words)").fill(phrase)
    page.get_by_role("button", name="Open my vault").click()
    expect(page.get_by_test_id("vault-items")).to_be_visible()
    page.get_by_label("Name").fill("door codes")
    page.get_by_label("Note").fill("Shed: 4711 — greenhouse: 0815")
    page.get_by_role("button", name="Encrypt and store").click()
    expect(page.get_by_test_id("vault-items")).to_contain_text("Shed: 4711")
    browser.screenshot("vault")
    # A new note may not take an existing note's name: it would replace that note unseen.
    page.get_by_label("Name").fill("door codes")
    page.get_by_label("Note").fill("something else")
    page.get_by_role("button", name="Encrypt and store").click()
    expect(page.get_by_role("alert")).to_contain_text("You already have “door codes”")
    expect(page.get_by_test_id("vault-items")).to_contain_text("Shed: 4711")

    phrase_file = tmp_path / "phrase.txt"
    phrase_file.write_text(phrase)
    phrase_file.chmod(0o600)
    got = cos_vault(stack, phrase_file, "get", "door codes", "--out", str(tmp_path / "codes.txt"))
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "codes.txt").read_text() == "Shed: 4711 — greenhouse: 0815"

    # Written by the CLI (large enough to be stored in parts), read in the browser.
    big = base64.b64encode(bytes(range(256)) * 400).decode()  # ~136 KiB of text: three parts
    (tmp_path / "big.txt").write_text(big)
    put = cos_vault(stack, phrase_file, "put", "archive", str(tmp_path / "big.txt"), "--kind", "note")
    assert put.returncode == 0, put.stderr
    page.reload()
    page.get_by_label("Recovery phrase (24 words)").fill(phrase)
    page.get_by_role("button", name="Open my vault").click()
    item = page.get_by_test_id("vault-items").locator("li", has_text="archive")
    expect(item.locator("pre")).to_have_text(big)

    # Edited in the browser: the CLI reads the new version.
    page.get_by_test_id("vault-items").locator("li", has_text="door codes").get_by_role(
        "link", name="Edit"
    ).click()
    expect(page.get_by_role("heading", name="Edit “door codes”")).to_be_visible()
    page.get_by_label("Note").fill("Shed: 1234")
    page.get_by_role("button", name="Encrypt and save").click()
    expect(page.get_by_test_id("vault-items")).to_contain_text("Shed: 1234")
    assert "item=" not in page.url  # saved: the address no longer opens the edit form
    expect(page.get_by_role("heading", name="New note")).to_be_visible()
    got = cos_vault(stack, phrase_file, "get", "door codes")
    assert got.stdout == "Shed: 1234"
    assert browser.errors == []
