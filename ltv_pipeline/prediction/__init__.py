"""Prediction models: probabilistic purchase models and the machine-learned challengers."""
