"""Small plugins used as fixtures: one file (or folder) per behaviour a test needs."""
