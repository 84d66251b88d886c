"""The echo service's data: session transcripts."""
