"""Utilities: ``autograd.utils.data`` (datasets and loaders)."""
