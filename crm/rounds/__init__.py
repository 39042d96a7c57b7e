"""申报批次 and the application pipeline: rounds, kanban boards, stage moves (DOMAIN §1)."""
