"""Notifications (PROTOCOL.md section 15): preferences, the notifier that decides whom a message
notifies (its job written by a send hook), Web Push and email digests with their outboxes'
workers, a user's email address and the signed links of mails."""
