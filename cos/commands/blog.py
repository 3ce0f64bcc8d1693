"""`cos blog`: sign and publish First Person Pages (signed blog posts), revise, list, export, verify.

A post is the author's self-issued `BlogPostingCredential` (eddsa-jcs-2022, signed here with her
did:key), so an exported post checks with `cos vc verify FILE` too; `cos blog verify` also checks
that it is a well-formed post. Keys: a recovery phrase on stdin, or `--keyfile`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats.errors

from cos.commands.keys import load_member_keys
from services.social.client.bus import social_request
from services.social.client.signing import signed_post, social_statement
from services.social.domain.post_document import read_post
from shared.commands import CommandRejected, CommandUnavailable
from shared.domain import DomainError
from shared.trust.canonical_json import JsonError, loads_strict
from shared.trust.credentials import verify_credential
from shared.trust.errors import TrustError
from shared.trust.resolver import default_resolver

__all__ = ["register"]

DEFAULT_NATS = "nats://127.0.0.1:4222"


def register(subparsers: Any) -> None:
    """Add `cos blog publish|revise|list|export|verify`."""
    blog: argparse.ArgumentParser = subparsers.add_parser(
        "blog",
        help="First Person Pages: signed blog posts (publish, revise, list, export, verify)",
        description="Signed blog posts: BlogPostingCredentials signed with the member's did:key.",
    )
    blog.add_argument("--nats-url", default=os.environ.get("NATS_URL", DEFAULT_NATS), help="($NATS_URL)")
    actions = blog.add_subparsers(dest="blog_action", required=True, metavar="ACTION")

    publish = actions.add_parser("publish", help="sign FILE (Markdown) with your key and publish it")
    publish.add_argument(
        "file", type=Path, help="the post's Markdown body ('-' is not allowed: stdin is the phrase)"
    )
    publish.add_argument("--community", required=True)
    publish.add_argument("--headline", required=True)
    publish.add_argument("--hashtag", action="append", default=[], help="repeatable: --hashtag regenerative")
    publish.add_argument("--post", help="the post's id (default: a new random id)")
    publish.add_argument("--keyfile", type=Path, metavar="PATH", help="sign with this keyfile, not a phrase")
    publish.set_defaults(handler=_exit_code(_publish))

    revise = actions.add_parser(
        "revise", help="sign a new revision of your post POST (keeps what you do not give)"
    )
    revise.add_argument("post")
    revise.add_argument("--community", required=True)
    revise.add_argument("--file", type=Path, help="the new Markdown body (default: keep the body)")
    revise.add_argument("--headline", help="the new headline (default: keep it)")
    revise.add_argument(
        "--hashtag", action="append", help="repeatable; replaces the hashtags (default: keep them)"
    )
    revise.add_argument("--keyfile", type=Path, metavar="PATH", help="sign with this keyfile, not a phrase")
    revise.set_defaults(handler=_exit_code(_revise))

    listing = actions.add_parser("list", help="a community's published posts, newest first")
    listing.add_argument("--community", required=True)
    listing.add_argument("--author")
    listing.add_argument("--hashtag")
    listing.set_defaults(handler=_exit_code(_list))

    export = actions.add_parser("export", help="print a post's signed document (verify it anywhere)")
    export.add_argument("post")
    export.add_argument("--community", required=True)
    export.add_argument("--out", type=Path)
    export.set_defaults(handler=_exit_code(_export))

    verify = actions.add_parser("verify", help="verify an exported post: exit 0 when valid, else 1")
    verify.add_argument("file", type=Path, help="the post document ('-' for stdin)")
    verify.set_defaults(handler=_verify)


class _Failed(Exception):
    """The service refused or did not answer; the message is printed already, `code` is the exit code."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _exit_code(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except _Failed as failed:
            return failed.code

    return run


def _request(args: argparse.Namespace, name: str, payload: dict[str, Any]) -> Any:
    """The service's answer; a refusal or silence is reported and raised as _Failed."""
    try:
        return asyncio.run(social_request(args.nats_url, name, payload))
    except CommandRejected as exc:
        print(f"cos blog: refused ({exc.type}): {exc.message}", file=sys.stderr)
        raise _Failed(1) from exc
    except (CommandUnavailable, OSError, TimeoutError, nats.errors.Error) as exc:
        print(f"cos blog: no Community OS platform answers at {args.nats_url} ({exc})", file=sys.stderr)
        raise _Failed(3) from exc


def _publish(args: argparse.Namespace) -> int:
    try:
        body = args.file.read_text(encoding="utf-8")
        keys = load_member_keys(args.keyfile)
        post = args.post or uuid.uuid4().hex
        document = signed_post(
            keys, args.community, post, headline=args.headline, body=body, hashtags=args.hashtag
        )
    except (OSError, UnicodeDecodeError, TrustError, ValueError, DomainError) as exc:
        print(f"cos blog: {exc}", file=sys.stderr)
        return 1
    statement = social_statement(keys, "publish_post", args.community, {"post": post, "document": document})
    published = _request(args, "publish_post", {"community": args.community, "statement": statement})
    print(json.dumps({"post": published["post"], "author": published["author"]}))
    return 0


def _revise(args: argparse.Namespace) -> int:
    try:
        body = args.file.read_text(encoding="utf-8") if args.file else None
        keys = load_member_keys(args.keyfile)
    except (OSError, UnicodeDecodeError, TrustError, ValueError) as exc:
        print(f"cos blog: {exc}", file=sys.stderr)
        return 1
    current = _request(args, "post", {"community": args.community, "post": args.post})
    if current["author"] != keys.did:
        print(f"cos blog: refused (not_the_author): {args.post} is not your post", file=sys.stderr)
        return 1
    published = current["document"]["credentialSubject"].get("datePublished")
    try:
        document = signed_post(
            keys,
            args.community,
            args.post,
            headline=args.headline if args.headline is not None else current["headline"],
            body=body if body is not None else current["body"],
            hashtags=args.hashtag if args.hashtag is not None else current["hashtags"],
            published=published if isinstance(published, str) else None,
        )
    except (TrustError, ValueError, DomainError) as exc:
        print(f"cos blog: {exc}", file=sys.stderr)
        return 1
    statement = social_statement(
        keys, "revise_post", args.community, {"post": args.post, "document": document}
    )
    revised = _request(args, "revise_post", {"community": args.community, "statement": statement})
    print(json.dumps({"post": revised["post"], "revisions": revised["revisions"]}))
    return 0


def _list(args: argparse.Namespace) -> int:
    query = {"community": args.community, "author": args.author, "hashtag": args.hashtag}
    found = _request(args, "posts", {k: v for k, v in query.items() if v is not None})
    for post in found["posts"]:
        tags = " ".join(f"#{t}" for t in post["hashtags"])
        print(f"{post['post']}\t{post['author']}\t{post['headline']}\t{tags}".rstrip())
    return 0


def _export(args: argparse.Namespace) -> int:
    found = _request(args, "post", {"community": args.community, "post": args.post})
    text = json.dumps(found["document"], indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def _verify(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")
        document = loads_strict(text)
    except (OSError, UnicodeDecodeError, JsonError) as exc:
        print(f"invalid: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    try:
        verified = verify_credential(document, default_resolver(), now=datetime.now(UTC))
        subject = document["credentialSubject"]
        content = read_post(
            document,
            community=str(subject.get("isPartOf")),
            post=str(subject.get("identifier")),
            author=verified.issuer,
        )
    except TrustError as exc:
        print(f"invalid: {exc} [{exc.reason}]", file=sys.stderr)
        return 1
    except (DomainError, KeyError, TypeError, AttributeError) as exc:
        print(f"invalid: not a signed post: {exc}", file=sys.stderr)
        return 1
    print(
        f"valid: post {content.post!r} ({content.headline}) by {content.author}, "
        f"signed with {verified.verification_method}"
    )
    return 0
