"""The transparency log: a checkpointer that publishes signed checkpoints of every community's commits."""
