"""The governance service (Decide): polls, eligibility from the committed roll, proxies, secret ballots."""
