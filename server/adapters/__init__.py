"""Implementations of the domain's ports: the cluster's hub, presence and budgets (``cluster/``:
Redis, or the database relay), the file and export stores on local disk, the HTTP sides of
webhooks, link previews and Web Push (one address guard, one TLS context), single sign-on's
OpenID Connect provider, mail (templates and SMTP) and the echo upstream."""
