"""The warehouse service: projection workers loading every stream into ClickHouse."""
