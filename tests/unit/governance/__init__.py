"""Pure tests of the governance domain and of the auditor's own rules."""
