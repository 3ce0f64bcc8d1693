"""The signed post: a self-issued VCDM 2.0 credential whose subject is a schema.org `BlogPosting`.

A member's device builds and signs this document with her did:key (eddsa-jcs-2022), so a reader
anywhere can check it with any VC verifier (`cos vc verify`). Checked here: its shape and that it
says what the statement around it claims. The signature is checked by the handler, not here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from shared.domain import DomainError

POST_TYPE = "BlogPostingCredential"
SUBJECT_TYPE = "BlogPosting"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
MAX_HEADLINE = 300
MAX_BODY = 100_000
MAX_HASHTAGS = 20
_HASHTAG = re.compile(r"^[^\W_][\w-]{0,63}$")


def normalize_hashtag(value: str) -> str:
    """`#Regenerative` → `regenerative`; refuses what cannot be a hashtag."""
    tag = unicodedata.normalize("NFKC", value).strip().lstrip("#").casefold()
    if not _HASHTAG.match(tag):
        raise DomainError("invalid_hashtag", f"{value!r} is not a hashtag (letters, digits, _ and -)")
    return tag


def normalize_hashtags(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise DomainError("invalid_hashtag", "hashtags are a list of strings")
    tags = tuple(dict.fromkeys(normalize_hashtag(v) for v in values))
    if len(tags) > MAX_HASHTAGS:
        raise DomainError("invalid_hashtag", f"at most {MAX_HASHTAGS} hashtags")
    return tags


@dataclass(frozen=True)
class PostContent:
    post: str
    author: str
    headline: str
    body: str
    hashtags: tuple[str, ...]


def unsigned_post(
    *,
    author: str,
    community: str,
    post: str,
    headline: str,
    body: str,
    hashtags: list[str],
    published: str,
    modified: str | None = None,
) -> dict[str, Any]:
    """The document a member's device signs (with `issue_credential`) to publish a post.

    A revision keeps the post's first `published` date and names when it changed (`modified`,
    schema.org's dateModified); the credential is valid from the moment it was signed.
    """
    subject: dict[str, Any] = {
        "id": author,
        "type": SUBJECT_TYPE,
        "identifier": post,
        "headline": headline,
        "articleBody": body,
        "encodingFormat": "text/markdown",
        "keywords": hashtags,
        "datePublished": published,
    }
    if modified is not None:
        subject["dateModified"] = modified
    subject["isPartOf"] = community
    return {
        "@context": [VC_CONTEXT],
        "id": f"urn:cos:{community}:post:{post}",
        "type": ["VerifiableCredential", POST_TYPE],
        "issuer": author,
        "validFrom": modified or published,
        "credentialSubject": subject,
    }


def read_post(document: Any, *, community: str, post: str, author: str) -> PostContent:
    """What a (signature-checked) post document says; refuses one that says something else."""
    if not isinstance(document, dict):
        raise DomainError("invalid_post", "a post is a signed JSON object")
    types = document.get("type")
    if not isinstance(types, list) or POST_TYPE not in types or "VerifiableCredential" not in types:
        raise DomainError("invalid_post", f"a post's type lists VerifiableCredential and {POST_TYPE}")
    if document.get("issuer") != author:
        raise DomainError("not_your_post", "the post document is issued by someone else")
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("type") != SUBJECT_TYPE:
        raise DomainError("invalid_post", f"credentialSubject must be a {SUBJECT_TYPE}")
    if subject.get("isPartOf") != community:
        raise DomainError("wrong_community", f"the post is published in {subject.get('isPartOf')!r}")
    if document.get("id") != f"urn:cos:{community}:post:{post}":
        raise DomainError("invalid_post", f"the post document's id must be urn:cos:{community}:post:{post}")
    if subject.get("id") != author or subject.get("identifier") != post:
        raise DomainError("invalid_post", "credentialSubject names another author or post")
    headline, body = subject.get("headline"), subject.get("articleBody")
    if not isinstance(headline, str) or not 0 < len(headline.strip()) <= MAX_HEADLINE:
        raise DomainError("invalid_post", f"a headline has 1-{MAX_HEADLINE} characters")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise DomainError("invalid_post", f"articleBody is Markdown text of at most {MAX_BODY} characters")
    hashtags = normalize_hashtags(subject.get("keywords", []))
    return PostContent(post=post, author=author, headline=headline.strip(), body=body, hashtags=hashtags)
