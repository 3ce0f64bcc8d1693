"""Ports of the knowledge service to the outside: membership, embeddings, text extraction, LLMs."""
