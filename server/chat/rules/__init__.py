"""Rules: who may read, post and act (access, the rank table of ``authority.check``, blocking's
pairs). Pure decisions and the lookups they need; every capability asks here, none decides alone."""
