"""The identity service: keys, recovery phrases, DIDs, credentials, status lists, invites, sign-in."""
