"""`make bench`: a generated company on PostgreSQL, timed; results in docs/benchmarks.md."""
