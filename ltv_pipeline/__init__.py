"""ltv-pipeline: raw exports to customer-lifetime-value decisions."""
