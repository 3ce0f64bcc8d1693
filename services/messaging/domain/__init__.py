"""The messaging domain: pure aggregates, events, content rules and the commands' bodies."""
