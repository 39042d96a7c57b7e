"""Visits (走访), the company's needs (诉求), follow-ups (跟进事项), the company timeline,
the visit ledger (走访台账) and the needs analysis."""
