"""Fault tests: real nats-server and service processes on loopback, killed and restarted."""
