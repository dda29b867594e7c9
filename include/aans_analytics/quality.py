"""The quality gate between staging and publishing a day (filled in by the Great Expectations suites)."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass
class AuditReport:
    business_date: date
    results: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"business_date": self.business_date.isoformat(), "results": len(self.results)}


def audit_batch(
    conn: Any, batch_id: str, business_date: date, run_id: str, overrides: Any
) -> AuditReport:
    return AuditReport(business_date)
