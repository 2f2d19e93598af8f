"""The fake ``maya.api`` package (tests only)."""
