"""The knowledge service (Know): permission-aware retrieval and cited answers over community knowledge."""
