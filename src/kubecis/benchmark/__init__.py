"""Benchmark definitions: models, loader, discovery variables, version mapping."""
