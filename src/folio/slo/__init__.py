"""Service level objectives: the SLO table, its Prometheus rules, dashboards and ops pages (docs/slo.md)."""
