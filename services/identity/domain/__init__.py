"""Identity domain: invites (pending → accepted), inviters' quotas and sign-in sessions. Pure."""
