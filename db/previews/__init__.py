"""The link previews' data: jobs, the URL cache and the pictures."""
