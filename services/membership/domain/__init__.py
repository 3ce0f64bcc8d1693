"""Membership domain: communities and their policies, members and their terms, roll snapshots. Pure."""
