"""The sweep's study: its numbers, words and pictures from known runs."""
