"""Checks an auditor runs offline, `cos audit <check> …`: one module per check.

Each module defines `register(checks)`, adding its own subparser to the `audit` group with a
`handler(args) -> int` default; exit 0 only when everything checked holds.
"""
