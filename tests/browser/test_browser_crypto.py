"""The web app's key and signature code, run in Chromium, against the Python trust layer and the
published vectors: BIP-39, SLIP-0010, RFC 8785 JCS, did:key and eddsa-jcs-2022 statements."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from nacl.public import PrivateKey, PublicKey, SealedBox

from shared.statements import StatementRejected, sign_statement, verify_statement
from shared.trust.credentials import verify_credential
from shared.trust.member_keys import MemberKeys
from shared.trust.recovery import new_phrase
from shared.trust.resolver import default_resolver
from shared.trust.x25519 import x25519_multikey_encode
from tests.browser.conftest import Browser
from tests.browser.stack import Stack
from tests.unit.trust.test_vectors_slip10 import CASES as SLIP10_CASES
from tests.unit.trust.vectors import VECTORS

CRYPTO = "/app/js/crypto.js"


def run(browser: Browser, stack: Stack, script: str, arg: Any = None) -> Any:
    """Evaluate `async (c, arg) => …` with the app's crypto module as `c`."""
    if not browser.page.url.startswith(stack.base):
        browser.page.goto(f"{stack.base}/app/#/")
    result = browser.page.evaluate(
        f"async ([path, arg]) => {{ const c = await import(path); return await ({script})(c, arg); }}",
        [CRYPTO, arg],
    )
    assert browser.errors == []
    return result


def test_bip39_vectors_and_slip10_vectors_match_in_the_browser(shared_browser: Browser, stack: Stack) -> None:
    vectors = json.loads((VECTORS / "bip39" / "vectors.json").read_text())["english"]
    got = run(
        shared_browser,
        stack,
        """async (c, vectors) => {
          const out = [];
          for (const [entropy, phrase] of vectors) {
            const made = await c.entropyToPhrase(c.hexToBytes(entropy));
            const seed = c.bytesToHex(await c.phraseToSeed(phrase, "TREZOR", null));
            out.push([made, seed]);
          }
          return out;
        }""",
        vectors,
    )
    assert got == [[phrase, seed] for _, phrase, seed, _ in vectors]

    cases = [{"seed": case.seed.hex(), "path": case.path} for case in SLIP10_CASES]
    derived = run(
        shared_browser,
        stack,
        """async (c, cases) => Promise.all(cases.map(async ({seed, path}) => {
          const node = await c.derivePath(c.hexToBytes(seed), path);
          const keys = await c.keysFromEd25519Seed(node.privateKey.slice());
          const hex = c.bytesToHex;
          return [hex(node.chainCode), hex(node.privateKey), "00" + hex(keys.publicKey)];
        }))""",
        cases,
    )
    assert derived == [[case.chain_code, case.private, case.public] for case in SLIP10_CASES]

    refused = run(
        shared_browser,
        stack,
        """async (c, phrases) => Promise.all(
          phrases.map((p) => c.validatePhrase(p).then(() => "ok", (e) => e.code)))""",
        ["abandon " * 23 + "abandon", "abandon " * 11 + "about", "abandon " * 23 + "zzzz"],
    )
    assert refused == ["bad_checksum", "wrong_word_count", "unknown_word"]


def test_jcs_matches_the_rfc8785_test_data(shared_browser: Browser, stack: Stack) -> None:
    folder = VECTORS / "rfc8785"
    names = sorted(path.name for path in (folder / "input").glob("*.json"))
    inputs = {name: (folder / "input" / name).read_text(encoding="utf-8") for name in names}
    out = run(
        shared_browser,
        stack,
        """async (c, inputs) => Object.fromEntries(
          Object.entries(inputs).map(([n, t]) => [n, c.canonicalize(JSON.parse(t))]))""",
        inputs,
    )
    assert out == {name: (folder / "output" / name).read_bytes().decode("utf-8") for name in names}


def test_keys_and_signed_statements_are_byte_identical_to_python(
    shared_browser: Browser, stack: Stack
) -> None:
    phrase = new_phrase()
    keys = MemberKeys.from_phrase(phrase)
    now = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
    nonce = secrets.token_hex(16)
    body: dict[str, Any] = {
        "name": "Zoë “quoted” \\ \u2028 😀",
        "numbers": [0, -1, 1.5, 1e21, 123456789012],
        "nested": {"b": [True, None, "x"], "a": {}, "\u00e9": "é", "A": "upper"},
    }
    made = run(
        shared_browser,
        stack,
        """async (c, a) => {
          const keys = await c.keysFromPhrase(a.phrase);
          const statement = await c.signStatement(keys, {
            action: "membership.apply", community: "river", body: a.body, nonce: a.nonce,
            now: new Date(a.now),
          });
          return {did: keys.did, vm: keys.verificationMethod, text: JSON.stringify(statement),
                  extractable: keys.privateKey.extractable};
        }""",
        {"phrase": phrase, "body": body, "nonce": nonce, "now": now.isoformat()},
    )
    assert made["did"] == keys.did
    assert made["vm"] == keys.verification_method
    assert made["extractable"] is False  # the key the app keeps cannot be read back out
    expected = sign_statement(
        keys, action="membership.apply", community="river", body=body, nonce=nonce, now=now
    )
    assert made["text"] == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
    from_browser = json.loads(made["text"])
    verified = verify_statement(from_browser, action="membership.apply", community="river", now=now)
    assert verified.actor == keys.did
    assert verified.body == body

    forged = json.loads(made["text"])
    forged["body"]["name"] = "Mallory"
    with pytest.raises(StatementRejected, match="forged_statement"):
        verify_statement(forged, action="membership.apply", community="river", now=now)


def test_an_invitation_credential_made_in_the_browser_verifies_in_python(
    shared_browser: Browser, stack: Stack
) -> None:
    phrase = new_phrase()
    credential = run(
        shared_browser,
        stack,
        """async (c, phrase) => {
          const keys = await c.keysFromPhrase(phrase);
          return c.issueCredential(keys, {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            type: ["VerifiableCredential", "InvitationCredential"],
            validFrom: "2026-01-01T00:00:00Z",
            credentialSubject: {name: "Bea"},
          }, new Date("2026-01-01T00:00:00Z"));
        }""",
        phrase,
    )
    verified = verify_credential(credential, default_resolver(), now=datetime(2026, 1, 2, tzinfo=UTC))
    assert verified.credential["issuer"] == MemberKeys.from_phrase(phrase).did


def test_sealed_boxes_interoperate_with_pynacl_both_ways(shared_browser: Browser, stack: Stack) -> None:
    phrase = new_phrase()
    keys = MemberKeys.from_phrase(phrase)
    data = bytes(range(256)) * 3
    result = run(
        shared_browser,
        stack,
        """async (c, a) => {
          const s = await import("/app/js/sealed.js");
          const keys = await c.keysFromPhrase(a.phrase);
          const mine = {
            privateKey: keys.x25519PrivateKey, publicKey: s.ed25519ToX25519Public(keys.publicKey),
          };
          const toBase64 = (b) => btoa(String.fromCharCode(...b));
          const data = c.hexToBytes(a.data);
          const hashes = [0, 1, 64, 127, 128, 129, 300].map(
            (n) => c.bytesToHex(s.blake2b(data.slice(0, n), 24)));
          const full = c.bytesToHex(s.blake2b(c.hexToBytes(a.data)));
          const sealedForPython = await s.sealFor("héllo, Python 👋", a.did);
          const openedFromPython = await s.openSealed(a.fromPython, mine);
          let tampered;
          try {
            const box = Uint8Array.from(atob(a.fromPython.box), (ch) => ch.charCodeAt(0));
            box[box.length - 1] ^= 1;
            await s.openSealed({key: a.fromPython.key, box: toBase64(box)}, mine);
            tampered = "opened";
          } catch (e) { tampered = "refused"; }
          const x25519 = c.bytesToHex(mine.publicKey);
          return {x25519, hashes, full, sealedForPython, openedFromPython, tampered};
        }""",
        {
            "phrase": phrase,
            "did": keys.did,
            "data": data.hex(),
            "fromPython": python_sealed(keys, "héllo, browser ✓"),
        },
    )
    assert result["x25519"] == keys.x25519_public_key.hex()
    assert result["hashes"] == [
        hashlib.blake2b(data[:n], digest_size=24).hexdigest() for n in (0, 1, 64, 127, 128, 129, 300)
    ]
    assert result["full"] == hashlib.blake2b(data).hexdigest()
    sealed = result["sealedForPython"]
    assert sealed["to"] == keys.did
    assert sealed["key"] == x25519_multikey_encode(keys.x25519_public_key)
    opened = SealedBox(PrivateKey(keys.x25519_private_key)).decrypt(base64.b64decode(sealed["box"]))
    assert opened.decode() == "héllo, Python 👋"
    assert result["openedFromPython"] == "héllo, browser ✓"
    assert result["tampered"] == "refused"


def python_sealed(keys: MemberKeys, text: str) -> dict[str, str]:
    box = SealedBox(PublicKey(keys.x25519_public_key)).encrypt(text.encode())
    return {"key": x25519_multikey_encode(keys.x25519_public_key), "box": base64.b64encode(box).decode()}
