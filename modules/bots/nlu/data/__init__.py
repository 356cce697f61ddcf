"""The shipped training examples (``intents_<language>.yaml``), package data."""
