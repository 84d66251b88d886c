"""The sections of ``Settings``: one module per capability or serving concern, composed by
``server/config.py``."""
