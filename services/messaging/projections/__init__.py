"""Read models of the messaging service, kept level with its log by CatchUp."""
