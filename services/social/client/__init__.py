"""What runs on the member's device: signing posts and encrypting the vault (never on the server)."""
