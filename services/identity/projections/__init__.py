"""Read models of the identity service, rebuilt from the IDENTITY stream."""
