"""Subcommands of `cos`; each module exposes `register(subparsers)` and is discovered automatically."""
