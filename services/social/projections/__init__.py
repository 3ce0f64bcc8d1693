"""Read models of the social service, kept level with the SOCIAL (and MESSAGING) logs."""
