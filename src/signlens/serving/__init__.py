"""Online serving: the REST API and the browser page (`signlens serve`)."""
