"""The thin gateway: HTTP for people and the web app, forwarding to services over NATS."""
