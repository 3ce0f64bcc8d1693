"""Shared fixtures come from shared.testkit.plugin (loaded in pyproject's addopts)."""
