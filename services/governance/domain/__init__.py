"""The pure domain of Decide: poll rules, counting, and the Poll, Ballot, Delegation, Settings aggregates."""
