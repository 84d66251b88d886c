"""Conversations: topics, memberships, messages, reactions, mentions, pins and the names namespace;
their tables, records and repositories, the extras' JSON and the thread summary's SQL."""
