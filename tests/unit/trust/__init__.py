"""Tests of the trust layer: shared/trust and the `cos keys`, `cos vc` and `cos did` commands."""
