"""Probability rules (densities, likelihoods): filled in with the likelihood pipeline."""
