"""Read models of the governance service, kept level with the log by `shared.catchup.OrderedCatchUp`."""
