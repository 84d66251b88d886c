"""Joining the workspace (PROTOCOL.md section 19): its registration settings, invites, the door every
new account passes (sign-up, single sign-on) and the accounts admins create."""
