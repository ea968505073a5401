"""The console scripts as users run them."""
