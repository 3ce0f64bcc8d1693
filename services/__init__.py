"""The Community OS services; each talks to the others only through NATS."""
