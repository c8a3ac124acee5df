"""Publishing: the tables BI tools and marketing systems read, never half-written."""
