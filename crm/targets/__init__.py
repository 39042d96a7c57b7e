"""Targets (目标) per year, metric and scope, and counting against them (DOMAIN §5)."""
