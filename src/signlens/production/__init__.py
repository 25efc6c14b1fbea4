"""Models in production: A/B assignment and statistics, the prediction log, drift monitoring."""
