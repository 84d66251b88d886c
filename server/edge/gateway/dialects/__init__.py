"""The original services' protocols (PROTOCOL.md 7), one package each, with their own wire shapes."""
