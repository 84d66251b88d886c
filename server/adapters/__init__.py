"""Implementations of the domain's ports: the cluster hubs and presence (Redis, relay), the echo upstream."""
