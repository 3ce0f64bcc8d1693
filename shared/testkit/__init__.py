"""Test kit shipped with the project: real nats-server fixtures and contract test helpers."""
