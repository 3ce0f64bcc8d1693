"""Ports of the social service to other services (membership, messaging) and their NATS adapters."""
