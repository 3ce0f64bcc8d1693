"""The pure domain of the social service: events, commands, aggregates (no I/O, no clock)."""
