"""Read models of the membership service, rebuilt from the MEMBERSHIP stream."""
