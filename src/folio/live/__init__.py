"""The live shop dashboard: a shop's metrics from the event pipeline, pushed over WebSocket or SSE."""
