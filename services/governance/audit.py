"""The independent auditor of a community's governance: recompute everything from the signed log alone.

Input: the community's MEMBERSHIP and GOVERNANCE commits (the stored envelope bytes, in stream order,
e.g. from an exported bundle). Output: an `AuditReport` naming every problem with its stream and
position, and the recomputed result of every poll. Nothing here calls the service's handlers,
aggregates or counting code: events are read as plain data, counting is `audit_counting`, member
statements are checked by `audit_statements`; only the ballot cryptography is shared (it is the
verification half of `crypto`). `docs/formats/governance-audit.md` says what is checked.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
from nats.aio.client import Client as NATS

from services.governance.audit_checks import Job, check_jobs, decode_state, warm_up
from services.governance.audit_counting import (
    choice_problem,
    meeting_outcome,
    options_of,
    outcome,
    per_option,
    ranked_outcome,
    valid_target,
)
from services.governance.crypto import (
    BallotCryptoError,
    BallotRules,
    DealerCommitment,
    EncryptedBallot,
    EncryptedTally,
    PartialDecryption,
    PollKey,
    SecretShare,
    ShareRejected,
    TrusteeSetup,
    check_partial_decryption,
    combine_partial_decryptions,
    election_public_key,
    tally_verified_ballots,
    verification_keys,
    verify_setup,
    verify_share,
)
from services.governance.crypto.group import point_hex
from shared.bundle import Bundle
from shared.envelope import Commit, EnvelopeError, peek_body
from shared.jetstream.reader import StreamReader

MEMBERSHIP, GOVERNANCE = "MEMBERSHIP", "GOVERNANCE"
DEFAULT_PROXY_LIMIT = 5


class StoredCommit(Protocol):
    """What the auditor reads of each commit (shared.bundle.BundledCommit has these fields)."""

    @property
    def position(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def subject(self) -> str: ...
    @property
    def data(self) -> bytes: ...


@dataclass(frozen=True)
class Finding:
    stream: str
    position: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.stream} position {self.position}" if self.position is not None else self.stream
        return f"{where}: {self.message}"


@dataclass
class PollReport:
    poll: str
    kind: str
    secret: bool
    eligible: int = 0
    voters: int = 0
    delegated: int = 0
    recomputed: dict[str, Any] | None = None
    recorded_outcome: str | None = None
    status: str = "created"
    # Complaints of dealt shares: {dealer, recipient, answered} (answered: the dealer revealed a
    # share that matches her commitments). An unanswered one is no finding, but the reader sees it.
    complaints: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AuditReport:
    community: str
    commits: dict[str, int] = field(default_factory=dict)
    signers: dict[str, list[str]] = field(default_factory=dict)
    ballots_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    polls: list[PollReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_json(self) -> dict[str, Any]:
        return {
            "community": self.community,
            "ok": self.ok,
            "commits": self.commits,
            "signers": self.signers,
            "ballots_checked": self.ballots_checked,
            "findings": [
                {"stream": f.stream, "position": f.position, "message": f.message} for f in self.findings
            ],
            "polls": [p.__dict__ for p in self.polls],
        }


@dataclass
class Entry:
    """One event of a verified-structure commit, with where it sits in the log."""

    stream: str
    position: int
    timestamp_ns: int
    tag: str
    originator: str
    fields: dict[str, Any]


def audit_community(
    community: str,
    membership: Sequence[StoredCommit],
    governance: Sequence[StoredCommit],
    *,
    workers: int | None = None,
) -> AuditReport:
    """Check both streams and recompute every poll; `workers` processes verify signatures and proofs."""
    report = AuditReport(community)
    workers = workers or os.cpu_count() or 1
    chunk = max(16, len(governance) // (workers * 8) + 1)
    pool = None
    if workers > 1 and len(governance) > 2 * chunk:
        # Spawned workers take a while to import; they do it while this process reads the log.
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        for _ in range(workers):
            pool.submit(warm_up)
    try:
        members_log = _read_stream(report, MEMBERSHIP, community, membership)
        governance_log = _read_stream(report, GOVERNANCE, community, governance)
        rolls = _rolls(report, members_log)
        replay = _Replay(report, community, rolls)
        keys = replay.plan(governance_log)
        jobs: list[Job] = [(c.position, c.data, community, keys.get(c.position)) for c in governance]
        problems = _verify_signed(jobs, pool, chunk)
    finally:
        if pool is not None:
            pool.shutdown()
    replay.run(governance_log, problems)
    return report


def audit_bundle(bundle: Bundle, workers: int | None = None) -> AuditReport:
    """`audit_community` over an exported bundle (`shared.bundle`); `cos audit verify` calls this too."""
    return audit_community(
        bundle.community, bundle.commits(MEMBERSHIP), bundle.commits(GOVERNANCE), workers=workers
    )


# -- structure: signatures of the service, order, versions -----------------------------------


def _read_stream(
    report: AuditReport, stream: str, community: str, commits: Sequence[StoredCommit]
) -> list[Entry]:
    entries: list[Entry] = []
    versions: dict[str, int] = {}
    signers: set[str] = set()
    previous = 0
    report.commits[stream] = len(commits)
    for index, stored in enumerate(commits):
        where = stored.position
        if stored.position != index:
            report.findings.append(
                Finding(
                    stream,
                    index,
                    f"entry at position {stored.position} where {index} was expected: missing or reordered",
                )
            )
        if stored.sequence <= previous:
            report.findings.append(
                Finding(stream, where, f"stream sequence {stored.sequence} after {previous}: reordered")
            )
        previous = max(previous, stored.sequence)
        try:
            _, body = peek_body(stored.data)
        except EnvelopeError as exc:
            report.findings.append(Finding(stream, where, f"unreadable entry: {exc}"))
            continue
        if not isinstance(body, Commit):
            continue
        signers.add(body.signer)
        if body.subject != stored.subject or body.community != community:
            report.findings.append(Finding(stream, where, "the commit names another subject or community"))
            continue
        expected = versions.get(body.originator_id, 0) + 1
        if body.first_version != expected:
            report.findings.append(
                Finding(
                    stream,
                    where,
                    f"{body.originator_id} continues at version {body.first_version}, not {expected}: "
                    "an earlier entry of it is missing or reordered",
                )
            )
        versions[body.originator_id] = body.last_version
        for event in body.events:
            try:
                state = decode_state.decode(event.state)
            except msgspec.DecodeError as exc:
                report.findings.append(Finding(stream, where, f"event {event.topic} is unreadable: {exc}"))
                continue
            entries.append(Entry(stream, where, body.timestamp_ns, event.topic, body.originator_id, state))
    report.signers[stream] = sorted(signers)
    return entries


def _rolls(report: AuditReport, log: list[Entry]) -> dict[str, dict[str, Any]]:
    rolls: dict[str, dict[str, Any]] = {}
    for entry in log:
        if entry.tag != "membership.roll_snapshotted.v1":
            continue
        members = list(entry.fields.get("members", []))
        snapshot = entry.originator.rsplit(".", 1)[-1]
        if members != sorted(set(members)) or _root(members) != entry.fields.get("root"):
            report.findings.append(
                Finding(MEMBERSHIP, entry.position, f"roll snapshot {snapshot} does not hash to its root")
            )
        if len(members) != entry.fields.get("size"):
            report.findings.append(
                Finding(MEMBERSHIP, entry.position, f"roll snapshot {snapshot} has a wrong size")
            )
        rolls[snapshot] = {
            "members": frozenset(members),
            "root": entry.fields.get("root"),
            "size": entry.fields.get("size"),
            "at_ns": entry.fields.get("at_ns"),
        }
    return rolls


def _root(dids: list[str]) -> str:
    def tree(hashes: list[bytes]) -> bytes:
        if len(hashes) == 1:
            return hashes[0]
        k = 1
        while k * 2 < len(hashes):
            k *= 2
        return hashlib.sha256(b"\x01" + tree(hashes[:k]) + tree(hashes[k:])).digest()

    if not dids:
        return hashlib.sha256(b"").hexdigest()
    return tree([hashlib.sha256(b"\x00" + d.encode()).digest() for d in dids]).hex()


# -- signatures of members and ballot proofs, in parallel ------------------------------------


def _verify_signed(jobs: list[Job], pool: ProcessPoolExecutor | None, chunk: int) -> dict[int, list[str]]:
    if pool is None:
        results = check_jobs(jobs)
    else:
        parts = [jobs[i : i + chunk] for i in range(0, len(jobs), chunk)]
        results = [result for part in pool.map(check_jobs, parts) for result in part]
    return {position: problems for position, problems in results if problems}


# -- the governance replay -------------------------------------------------------------------


@dataclass
class _Poll:
    poll: str
    spec: dict[str, Any]
    author: str
    closes_ns: int
    proxy_limit: int
    commitments: dict[int, dict[str, Any]] = field(default_factory=dict)
    complaints: dict[tuple[int, int], bool] = field(default_factory=dict)  # (dealer, recipient) → answered
    members: frozenset[str] = frozenset()
    size: int = 0
    key: PollKey | None = None
    setup: TrusteeSetup | None = None
    opened: bool = False
    closed_at: int | None = None
    ballots: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    tally: EncryptedTally | None = None
    partials: list[PartialDecryption] = field(default_factory=list)
    results: bool = False
    report: PollReport | None = None
    reached_at: int | None = None  # count polls: the first ballot that brought the ins to the target

    def counted(self) -> list[dict[str, Any]]:
        limit = self.closed_at if self.closed_at is not None else 1 << 62
        chosen = []
        for casts in self.ballots.values():
            before = [cast for position, cast in casts if position < limit]
            if before:
                chosen.append(before[-1])
        return chosen


class _Replay:
    def __init__(self, report: AuditReport, community: str, rolls: dict[str, dict[str, Any]]) -> None:
        self.report = report
        self.community = community
        self.rolls = rolls
        self.polls: dict[str, _Poll] = {}
        self.delegations: dict[str, dict[str, Any]] = {}
        self.proxy_limit = DEFAULT_PROXY_LIMIT
        self.nonces: set[tuple[str, str]] = set()
        self.invalid: dict[int, list[str]] = {}

    def find(self, position: int, message: str) -> None:
        self.report.findings.append(Finding(GOVERNANCE, position, message))

    def plan(self, log: list[Entry]) -> dict[int, str]:
        """The poll key (JSON) each ballot commit is verified against, by position."""
        keys: dict[str, str] = {}
        specs: dict[str, dict[str, Any]] = {}
        jobs: dict[int, str] = {}
        for entry in log:
            poll = entry.fields.get("poll") or entry.originator.split(".")[-1]
            if entry.tag == "governance.poll_created.v1":
                specs[entry.originator] = entry.fields["spec"]
            elif entry.tag == "governance.poll_opened.v1" and entry.fields.get("public_key"):
                spec = specs.get(entry.originator)
                if spec is not None:
                    keys[entry.originator.split(".")[-1]] = msgspec.json.encode(
                        PollKey(entry.originator, entry.fields["public_key"], _ballot_rules(spec))
                    ).decode()
            if entry.tag == "governance.ballot_cast.v1" and poll in keys:
                jobs[entry.position] = keys[poll]
        return jobs

    def run(self, log: list[Entry], problems: dict[int, list[str]]) -> None:
        self.invalid = problems
        for position, messages in sorted(problems.items()):
            for message in messages:
                self.find(position, message)
        for entry in log:
            statement = entry.fields.get("statement")
            if isinstance(statement, dict):
                nonce = (str(statement.get("actor")), str(statement.get("nonce")))
                if nonce in self.nonces:
                    self.find(entry.position, "a member statement used a second time (replayed nonce)")
                self.nonces.add(nonce)
            handler = getattr(self, "_" + entry.tag.split(".")[1], None)
            if handler is not None:
                handler(entry)
        for poll in self.polls.values():
            if poll.report is not None:
                self.report.polls.append(poll.report)

    # -- one method per event type (named after the tag) ----------------------------------------

    def _settings_configured(self, entry: Entry) -> None:
        self.proxy_limit = int(entry.fields["proxy_limit"])

    def _poll_created(self, entry: Entry) -> None:
        f = entry.fields
        spec = f["spec"]
        poll = _Poll(f["poll"], spec, f["by"], f["closes_ns"], f["proxy_limit"])
        poll.report = PollReport(f["poll"], spec["kind"], spec.get("secret") is not None)
        self.polls[f["poll"]] = poll
        if f["proxy_limit"] != self.proxy_limit:
            self.find(
                entry.position,
                f"poll {f['poll']} records proxy limit {f['proxy_limit']}, policy is {self.proxy_limit}",
            )
        if spec["kind"] == "count" and not valid_target(spec):
            self.find(
                entry.position, f"poll {f['poll']}: a count poll needs a target, a whole number 1..100000"
            )
        signed = (f.get("statement") or {}).get("body", {}).get("spec", {})
        for name, value in signed.items():
            if _plain_json(spec.get(name)) != _plain_json(value):
                self.find(
                    entry.position, f"poll {f['poll']}: recorded {name} differs from what the author signed"
                )

    def _trustee_committed(self, entry: Entry) -> None:
        poll = self._poll(entry)
        if poll is None:
            return
        trustees = list((poll.spec.get("secret") or {}).get("trustees", []))
        did, index = entry.fields["did"], entry.fields["trustee"]
        if did not in trustees or trustees.index(did) + 1 != index:
            self.find(entry.position, f"{did} is not trustee {index} of poll {poll.poll}")
        poll.commitments[index] = entry.fields["commitment"]

    def _trustee_at(self, entry: Entry, poll: _Poll, index: int, what: str) -> bool:
        trustees = list((poll.spec.get("secret") or {}).get("trustees", []))
        if not 1 <= index <= len(trustees) or trustees[index - 1] != entry.fields["did"]:
            self.find(
                entry.position, f"poll {poll.poll}: {what} by {entry.fields['did']}, not trustee {index}"
            )
            return False
        return True

    def _share_complained(self, entry: Entry) -> None:
        poll = self._poll(entry)
        if poll is None:
            return
        me, dealer = entry.fields["trustee"], entry.fields["dealer"]
        if not self._trustee_at(entry, poll, me, "a complaint"):
            return
        if dealer == me or dealer not in poll.commitments or (dealer, me) in poll.complaints or poll.results:
            self.find(
                entry.position,
                f"poll {poll.poll}: trustee {me}'s complaint of trustee {dealer} is not one the rules allow",
            )
            return
        poll.complaints[(dealer, me)] = False
        assert poll.report is not None
        poll.report.complaints.append({"dealer": dealer, "recipient": me, "answered": False})

    def _share_revealed(self, entry: Entry) -> None:
        poll = self._poll(entry)
        if poll is None:
            return
        dealer, recipient = entry.fields["dealer"], entry.fields["recipient"]
        if not self._trustee_at(entry, poll, dealer, "a revealed share"):
            return
        if poll.complaints.get((dealer, recipient)) is not False:
            self.find(
                entry.position,
                f"poll {poll.poll}: trustee {dealer} revealed a share "
                f"that no complaint of trustee {recipient} asked for",
            )
            return
        try:
            share = msgspec.convert(entry.fields["share"], SecretShare)
            if (share.dealer, share.recipient) != (dealer, recipient):
                raise ShareRejected(dealer, recipient)
            verify_share(msgspec.convert(poll.commitments[dealer], DealerCommitment), share)
        except (msgspec.ValidationError, BallotCryptoError) as exc:
            self.find(
                entry.position,
                f"poll {poll.poll}: the share trustee {dealer} revealed for trustee {recipient} does not "
                f"match her commitments ({exc})",
            )
            return
        poll.complaints[(dealer, recipient)] = True
        assert poll.report is not None
        for complaint in poll.report.complaints:
            if (complaint["dealer"], complaint["recipient"]) == (dealer, recipient):
                complaint["answered"] = True

    def _poll_opened(self, entry: Entry) -> None:
        poll = self._poll(entry)
        if poll is None:
            return
        f = entry.fields
        roll = self.rolls.get(f["snapshot"])
        if roll is None:
            self.find(
                entry.position,
                f"poll {poll.poll} opened on roll {f['snapshot']}, which membership never committed",
            )
            return
        if (roll["root"], roll["size"]) != (f["root"], f["size"]):
            self.find(
                entry.position, f"poll {poll.poll}: the roll root or size differs from membership's snapshot"
            )
        poll.members, poll.size, poll.opened = roll["members"], roll["size"], True
        assert poll.report is not None
        poll.report.eligible, poll.report.status = poll.size, "open"
        secret = poll.spec.get("secret")
        if secret is None:
            return
        try:
            setup = msgspec.convert(f["setup"], TrusteeSetup)
            verify_setup(setup)
        except (msgspec.ValidationError, BallotCryptoError) as exc:
            self.find(entry.position, f"poll {poll.poll}: the trustees' key ceremony does not verify: {exc}")
            return
        dealt = [msgspec.convert(poll.commitments[i], DealerCommitment) for i in sorted(poll.commitments)]
        if list(setup.dealers) != dealt or setup.threshold != secret["threshold"]:
            self.find(entry.position, f"poll {poll.poll}: the key is not made from the trustees' commitments")
        if point_hex(election_public_key(setup)) != f["public_key"]:
            self.find(entry.position, f"poll {poll.poll}: the public key is not the trustees' joint key")
        poll.setup = setup
        poll.key = PollKey(entry.originator, f["public_key"], _ballot_rules(poll.spec))

    def _ballot_cast(self, entry: Entry) -> None:
        poll = self._poll(entry)
        if poll is None:
            return
        f = entry.fields
        voter, actor, where = f["voter"], f["cast_by"], entry.position
        if not poll.opened or poll.closed_at is not None:
            if poll.closed_at is None:
                self.find(where, f"a ballot in poll {poll.poll} before it opened")
            return  # recorded after the close: not counted, and the count must not include it
        if voter not in poll.members:
            self.find(where, f"{voter} is not on the roll of poll {poll.poll}, yet a ballot was recorded")
            return
        body = (f.get("statement") or {}).get("body", {})
        if body.get("poll") != poll.poll or body.get("on_behalf_of", voter) != voter:
            self.find(where, "the ballot differs from what the member signed (poll or voter)")
        if poll.spec.get("secret") is None:
            if list(body.get("choice") or []) != list(f["choice"]):
                self.find(where, "the recorded choice differs from the signed one")
            problem = choice_problem(poll.spec, f["choice"])
            if problem:
                self.find(where, f"an invalid ballot was recorded: {problem}")
                return
        elif not _same_ballot(body.get("ballot"), f["ballot"]):
            self.find(where, "the recorded encrypted ballot differs from the signed one")
        if voter != actor and not self._proxy_may_vote(entry, poll):
            return
        if where in self.invalid:
            return  # a forged statement or an invalid proof: never counted
        poll.ballots.setdefault(voter, []).append((where, f))
        self.report.ballots_checked += 1
        if poll.spec["kind"] == "count" and poll.reached_at is None and valid_target(poll.spec):
            ins = sum(1 for casts in poll.ballots.values() if list(casts[-1][1]["choice"]) == [0])
            if ins >= poll.spec["target"]:
                poll.reached_at = where

    def _proxy_may_vote(self, entry: Entry, poll: _Poll) -> bool:
        f, where = entry.fields, entry.position
        voter, proxy = f["voter"], f["cast_by"]
        delegation = self.delegations.get(f.get("delegation", ""))
        if proxy not in poll.members:
            self.find(where, f"proxy {proxy} is not on the roll of poll {poll.poll}")
            return False
        if delegation is None or (delegation["delegator"], delegation["proxy"]) != (voter, proxy):
            self.find(where, f"{proxy} voted for {voter} without a delegation from her to him")
            return False
        if delegation["revoked"]:
            self.find(where, f"{proxy} voted for {voter} under a revoked delegation")
            return False
        if delegation["poll"]:
            covers = delegation["poll"] == poll.poll
        else:
            covers = delegation["valid_from_ns"] <= entry.timestamp_ns < delegation["valid_until_ns"]
        if not covers:
            self.find(where, f"{proxy} voted for {voter} outside what the delegation covers")
            return False
        earlier = poll.ballots.get(voter, [])
        if earlier and earlier[-1][1]["cast_by"] == voter:
            self.find(where, f"a proxy replaced {voter}'s own ballot")
            return False
        load = {v for v, casts in poll.ballots.items() if casts[-1][1]["cast_by"] == proxy and v != proxy}
        if voter not in load and len(load) >= poll.proxy_limit:
            self.find(where, f"{proxy} voted for more than {poll.proxy_limit} members")
            return False
        return True

    def _poll_extended(self, entry: Entry) -> None:
        poll = self._poll(entry)
        if poll is None:
            return
        f = entry.fields
        if f["by"] != poll.author:
            self.find(entry.position, f"poll {poll.poll} was extended by someone other than its author")
        elif poll.closed_at is not None or entry.timestamp_ns >= poll.closes_ns:
            self.find(entry.position, f"poll {poll.poll} was extended after it had closed")
        elif int(f["closes_ns"]) <= poll.closes_ns:
            self.find(entry.position, f"poll {poll.poll}: an extension moved its close earlier")
        else:
            poll.closes_ns = int(f["closes_ns"])

    def _poll_closed(self, entry: Entry) -> None:
        poll = self._poll(entry)
        if poll is None:
            return
        f = entry.fields
        if f["reason"] == "by_author" and f["by"] != poll.author:
            self.find(entry.position, f"poll {poll.poll} was closed early by someone other than its author")
        if f["reason"] == "close_time" and entry.timestamp_ns < poll.closes_ns:
            self.find(entry.position, f"poll {poll.poll} was closed for time before its close time")
        if f["reason"] == "target_reached":
            if poll.spec.get("close_early") != "target_reached" or poll.spec["kind"] != "count":
                self.find(entry.position, f"poll {poll.poll} was closed for a target it does not close at")
            elif poll.reached_at is None:
                self.find(
                    entry.position,
                    f"poll {poll.poll} was closed for its target before enough members were in",
                )
        poll.closed_at = entry.position
        assert poll.report is not None
        poll.report.status = "closed"

    def _tally_encrypted(self, entry: Entry) -> None:
        poll = self._poll(entry)
        if poll is None or poll.key is None:
            return
        counted = poll.counted()
        ballots = [msgspec.convert(c["ballot"], EncryptedBallot) for c in counted]
        recomputed = tally_verified_ballots(poll.key, ballots)  # only ballots whose proofs verified
        recorded = msgspec.convert(entry.fields["tally"], EncryptedTally)
        if recomputed != recorded:
            self.find(
                entry.position,
                f"poll {poll.poll}: the encrypted tally is not the product of the counted ballots",
            )
        poll.tally = recomputed

    def _partial_decryption_submitted(self, entry: Entry) -> None:
        poll = self._poll(entry)
        if poll is None or poll.setup is None or poll.tally is None:
            if poll is not None:
                self.find(
                    entry.position, f"poll {poll.poll}: a partial decryption without an encrypted tally"
                )
            return
        trustees = list(poll.spec["secret"]["trustees"])
        index = entry.fields["trustee"]
        actor = (entry.fields.get("statement") or {}).get("actor")
        if not 1 <= index <= len(trustees) or trustees[index - 1] != actor:
            self.find(entry.position, f"partial decryption {index} is not signed by that trustee")
            return
        partial = msgspec.convert(entry.fields["partial"], PartialDecryption)
        key = verification_keys(poll.setup).get(index)
        if key is None or partial.trustee != index or not check_partial_decryption(poll.tally, key, partial):
            self.find(
                entry.position, f"trustee {index}'s partial decryption of poll {poll.poll} does not verify"
            )
            return
        poll.partials.append(partial)

    def _results_recorded(self, entry: Entry) -> None:
        poll = self._poll(entry)
        if poll is None:
            return
        counted = poll.counted()
        voters = len(counted)
        delegated = sum(1 for c in counted if c["cast_by"] != c["voter"])
        recomputed = self._recount(entry, poll, counted)
        if recomputed is None:
            return
        recomputed |= {"voters": voters, "eligible": poll.size, "delegated": delegated}
        claimed = entry.fields["result"]
        for name, value in recomputed.items():
            if _plain_json(claimed.get(name)) != _plain_json(value):
                self.find(
                    entry.position,
                    f"poll {poll.poll}: recorded {name} {claimed.get(name)!r}, recomputed {value!r}",
                )
        assert poll.report is not None
        poll.report.voters, poll.report.delegated = voters, delegated
        poll.report.recomputed, poll.report.recorded_outcome = recomputed, claimed.get("outcome")
        poll.report.status = "decided"
        poll.results = True

    def _recount(self, entry: Entry, poll: _Poll, counted: list[dict[str, Any]]) -> dict[str, Any] | None:
        spec, voters = poll.spec, len(counted)
        if spec.get("secret") is None:
            if spec["kind"] == "ranked":
                return ranked_outcome(spec, [list(c["choice"]) for c in counted], voters, poll.size)
            if spec["kind"] == "meeting":
                return meeting_outcome(spec, [list(c["choice"]) for c in counted], voters, poll.size)
            totals = [0] * len(options_of(spec))
            for cast in counted:
                totals = [t + v for t, v in zip(totals, per_option(spec, cast["choice"]), strict=True)]
            return outcome(spec, totals, voters, poll.size)
        if poll.setup is None or poll.tally is None or poll.key is None:
            self.find(entry.position, f"poll {poll.poll}: results of a secret poll without a tally")
            return None
        rules = poll.key.rules
        try:
            decrypted = combine_partial_decryptions(
                poll.setup, poll.tally, poll.partials, rules.max_per_option
            )
        except BallotCryptoError as exc:
            self.find(
                entry.position,
                f"poll {poll.poll}: the tally cannot be decrypted from the trustees' shares: {exc}",
            )
            return None
        return outcome(spec, list(rules.full_counts(decrypted.counts, voters)), voters, poll.size)

    def _outcome_stated(self, entry: Entry) -> None:
        poll = self._poll(entry)
        if poll is None:
            return
        f = entry.fields
        if f["by"] != poll.author or not poll.results:
            self.find(
                entry.position, f"poll {poll.poll}: an outcome stated by someone else, or before the results"
            )
        signed = (f.get("statement") or {}).get("body", {})
        for name, default in (("text", None), ("slot", None), ("location", "")):
            if signed.get(name, default) != f.get(name, default):
                self.find(
                    entry.position,
                    f"poll {poll.poll}: the outcome's {name} differs from what the author signed",
                )
        slot = f.get("slot")
        if slot is not None and (
            poll.spec["kind"] != "meeting"
            or not isinstance(slot, int)
            or not 0 <= slot < len(poll.spec["options"])
        ):
            self.find(
                entry.position, f"poll {poll.poll}: the outcome picks time {slot!r}, which the poll has not"
            )

    def _delegation_granted(self, entry: Entry) -> None:
        f = entry.fields
        body = (f.get("statement") or {}).get("body", {})
        if body.get("proxy") != f["proxy"] or f["proxy"] == f["delegator"]:
            self.find(entry.position, "a delegation differs from what the member signed, or names herself")
        self.delegations[entry.originator.rsplit(".", 1)[-1]] = dict(f) | {"revoked": False}

    def _delegation_revoked(self, entry: Entry) -> None:
        delegation = self.delegations.get(entry.originator.rsplit(".", 1)[-1])
        if delegation is None or delegation["delegator"] != entry.fields["by"]:
            self.find(entry.position, "a delegation revoked by someone other than the member who gave it")
            return
        delegation["revoked"] = True

    def _poll(self, entry: Entry) -> _Poll | None:
        name = entry.fields.get("poll") or entry.originator.split(".")[-1]
        poll = self.polls.get(name)
        if poll is None:
            self.find(entry.position, f"an event of poll {name}, which was never created")
        return poll


def _ballot_rules(spec: dict[str, Any]) -> BallotRules:
    n, kind = len(options_of(spec)), spec["kind"]
    if kind in ("proposal", "consent", "single"):
        return BallotRules(n, 1, 1, 1, implicit_last=True)
    if kind == "multiple":
        return BallotRules(n, 1, spec["min_choices"], spec["max_choices"])
    if kind == "score":
        return BallotRules(n, spec["max_score"], 0, None)
    return BallotRules(n, spec["dots"], 0, spec["dots"])


def _same_ballot(signed: Any, recorded: Any) -> bool:
    try:
        return msgspec.convert(signed, EncryptedBallot) == msgspec.convert(recorded, EncryptedBallot)
    except msgspec.ValidationError:
        return False


@dataclass(frozen=True)
class LogCommit:
    """A commit read straight from JetStream, shaped like a bundle's commit."""

    position: int
    sequence: int
    subject: str
    data: bytes


async def read_community(nc: NATS, community: str, stream: str) -> list[LogCommit]:
    """Every commit of `community` in `stream` (MEMBERSHIP or GOVERNANCE), in stream order."""
    commits: list[LogCommit] = []
    async for page in StreamReader(nc, stream).scan(1, subject=f"{stream.lower()}.{community}.>"):
        commits += [LogCommit(len(commits) + i, m.seq, m.subject, m.data) for i, m in enumerate(page)]
    return commits


def _plain_json(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value))
