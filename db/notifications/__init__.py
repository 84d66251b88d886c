"""The notifications' data: preferences, push and mail (subscriptions, jobs, outboxes)."""
