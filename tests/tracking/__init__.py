"""Every MLflow call against a real store."""
