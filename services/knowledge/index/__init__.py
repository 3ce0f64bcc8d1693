"""Per-community search indexes built from signed commits of MESSAGING, GOVERNANCE and KNOWLEDGE."""
