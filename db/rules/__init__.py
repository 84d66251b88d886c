"""The access rules' data: bans from topics and blocks between users."""
