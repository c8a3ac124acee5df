"""The `ltv` command line and what its commands do."""
