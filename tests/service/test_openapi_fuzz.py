"""Property-based requests against the gateway's own OpenAPI document (schemathesis + hypothesis).

Every operation gets generated path, query and body values, sent over HTTP to the whole platform
(the seeded demo community included), with no token, a garbage token, or a real member's token
and the community path pointed at the demo half of the time. Whatever comes in, the answer is
never a server error (a typed 503 saying a service or model is not configured is allowed), and
every refusal has the typed body `{"error": {"type", "message"}}`. Examples are derandomized
(the same run every time) and few per operation, to stay fast.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Err

from cos.demo import ADMINS
from shared.statements import sign_statement
from shared.trust.member_keys import MemberKeys
from tests.browser.stack import Stack, running_stack

EXAMPLES_PER_OPERATION = 6
# Names that address infrastructure subjects, never a community: refused at the gateway's door.
RESERVED_COMMUNITIES = ("cmd", "_x", "_l", "_tracking")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("fuzz")) as running:
        yield running


def access_token(stack: Stack) -> str:
    keys = MemberKeys.from_phrase(stack.phrase(ADMINS[0].name))
    with httpx.Client(base_url=stack.base, timeout=20) as client:
        challenge = client.post("/c/demo/auth/challenge", json={"member": keys.did}).json()["challenge"]
        statement = sign_statement(
            keys, action="identity.sign_in", community="demo", body={"challenge": challenge},
            nonce=secrets.token_hex(16), now=datetime.now(tz=UTC),
        )  # fmt: skip
        reply = client.post("/c/demo/auth/sign-in", json={"statement": statement})
        assert reply.status_code == 200, reply.text
        return str(reply.json()["access_token"])


def test_no_generated_request_gets_a_server_error_or_an_untyped_refusal(
    platform: Stack, tmp_path: Path
) -> None:
    schema = schemathesis.openapi.from_url(f"{platform.base}/openapi.json")
    token = access_token(platform)
    seen: dict[str, set[int]] = {}
    problems: list[str] = []
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            problems.append(f"the OpenAPI document has an invalid operation: {result.err()}")
        else:
            operations.append(result.ok())
    assert len(operations) >= 10  # the whole API is in the document, not a sliver of it

    def probe_of(operation: Any) -> Any:
        label = f"{operation.method.upper()} {operation.path}"
        seen[label] = set()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=operation.as_strategy(),
            at_demo=st.booleans(),
            auth=st.sampled_from([None, token, "cos1.not-a-token"]),
        )
        def probe(case: Any, at_demo: bool, auth: str | None) -> None:
            community = (case.path_parameters or {}).get("community")
            if community is not None and at_demo:
                case.path_parameters["community"] = "demo"
            headers = {"authorization": f"Bearer {auth}"} if auth else {}
            response = case.call(base_url=platform.base, headers=headers, timeout=30)
            seen[label].add(response.status_code)
            where = f"{label} -> {response.status_code}: {case.as_curl_command(headers=headers)}"
            if response.status_code >= 400:
                try:
                    error = response.json()["error"]
                    assert isinstance(error["type"], str)
                    assert isinstance(error["message"], str)
                except (ValueError, KeyError, TypeError, AssertionError):
                    problems.append(f"untyped refusal {where}\n{response.text[:300]}")
            # 503 is a typed "not available here" (a service or model not configured), not a crash.
            if response.status_code >= 500 and response.status_code != 503:
                problems.append(f"server error {where}\n{response.text[:300]}")

        return probe

    for operation in operations:
        probe_of(operation)()

    assert problems == [], "\n\n".join(problems[:10])
    # The run reached the services, not only the gateway's validation: some requests were answered.
    assert any(code < 300 for codes in seen.values() for code in codes)


def test_reserved_community_names_and_unknown_routes_are_typed_4xx(platform: Stack) -> None:
    with httpx.Client(base_url=platform.base, timeout=20) as client:
        answers = [client.get(f"/c/{name}") for name in RESERVED_COMMUNITIES]
        answers += [client.get(f"/c/{name}/did.jsonl") for name in RESERVED_COMMUNITIES]
        session = {"session": "s", "refresh_token": "r" * 20}
        answers += [client.post(f"/c/{name}/auth/refresh", json=session) for name in RESERVED_COMMUNITIES]
    assert {answer.status_code for answer in answers} == {404}
    assert {answer.json()["error"]["type"] for answer in answers} == {"unknown_community"}
    with httpx.Client(base_url=platform.base, timeout=20) as client:
        missing = client.get("/no/such/route")
        wrong_method = client.delete("/healthz")
    assert (missing.status_code, missing.json()["error"]["type"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]["type"]) == (405, "method_not_allowed")
