"""Ports to other services (membership, notifications) and their NATS adapters and in-memory doubles."""
