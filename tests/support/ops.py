"""The ops side in tests: Prometheus samples, and an audit store made read-only on demand."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from gateway.store.database import Database

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(text: str) -> Samples:
    """Every sample of a Prometheus text exposition: (name, sorted labels) -> value."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def named(samples: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for (n, labels), value in samples.items() if n == name}


def block_audit_writes(dsn: str, blocked: bool) -> None:
    """Triggers that refuse every write the gateway and the readiness probe make."""
    tables = ("audit_checkpoint", "audit_record")
    statements = (
        [
            f"CREATE TRIGGER kp_test_ro_{table} BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'audit store read-only'); END"
            for table in tables
        ]
        if blocked
        else [f"DROP TRIGGER IF EXISTS kp_test_ro_{table}" for table in tables]
    )
    db = Database(dsn)
    try:
        db.run_sync(lambda ex: [ex(s) for s in statements])
    finally:
        db.close()


__all__ = ["Samples", "block_audit_writes", "named", "scrape"]
