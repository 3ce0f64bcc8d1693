"""Adapters of the membership service: the ports it talks through (identity credentials, nonces)."""
