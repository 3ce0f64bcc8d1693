"""What two or more Community OS services need and no business rule: envelope, signing, event store."""
