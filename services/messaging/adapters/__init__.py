"""Ports and adapters of the messaging service: membership feed, community signer, SMTP, live notices."""
