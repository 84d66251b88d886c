"""Moderation's data: reported messages."""
