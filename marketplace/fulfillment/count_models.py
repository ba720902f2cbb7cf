"""Cycle counts: blind counts of bins or SKUs and their variance review."""
