"""One model's work, no MLflow: data read and checked, the EBM, its test metrics, importance.

`data`, `validate`, `model`, `metrics`, `importance`, `contributions`, `pipeline` (all of it,
for one config), `library_warnings` (what interpret and scikit-learn warn of while fitting).
"""
