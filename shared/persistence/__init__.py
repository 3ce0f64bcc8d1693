"""Persistence modules for the eventsourcing library (select with PERSISTENCE_MODULE)."""
