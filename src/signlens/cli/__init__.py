"""The `signlens` command: one module per command group; heavy imports only inside commands."""
