"""The messaging service: announcements (Communicate), forums and chat (Discuss), moderation."""
