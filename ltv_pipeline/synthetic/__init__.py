"""The synthetic demo business: a realistic landing zone plus the truth that generated it.

`generate_business` writes the four sources of the data contract (orders, customers,
marketing_spend, support_tickets) for a shop acquiring customers through paid and unpaid
channels, and the generating parameters beside it, so every later stage can be tested
against a known right answer.
"""

from ltv_pipeline.synthetic.generate import GenerationSummary, generate_business, truth_dir_for
from ltv_pipeline.synthetic.response import allocation_value, true_new_customers, true_optimal_allocation

__all__ = [
    "GenerationSummary",
    "allocation_value",
    "generate_business",
    "true_new_customers",
    "true_optimal_allocation",
    "truth_dir_for",
]
