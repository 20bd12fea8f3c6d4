"""One module per CLI verb. Each parses nothing itself: cli.py parses, these call the engine."""
