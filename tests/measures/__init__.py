"""The formulas against values worked by hand and simulations with a known truth."""
