"""The leaders' dashboard: progress against targets, pace, projection, trend, risks and drill-downs."""
