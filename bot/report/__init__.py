"""What the run tells people: harness evidence, the eight-part PR body, the tracking comment, summaries."""
