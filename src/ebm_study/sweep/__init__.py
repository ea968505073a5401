"""Everything Hydra runs between jobs: the sweep's callback, progress, the seed rules, the
sweepers (seeds on demand, the stability-aware search) and the plan they share.
"""
