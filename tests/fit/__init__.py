"""One model's work: data, checks, the EBM, metrics, importance, the pipeline."""
