"""Pure rules of Know: documents and the library, access rules, chunking, typed refusals."""
