"""The kernel of the domain: what every capability may import and none owns.

Values (``actors``, ``places``, ``errors``, ``events`` (news for the hub), ``facts`` (for commit
handlers only), ``schemas`` (base types and the shapes events carry), ``views``, ``audiences``,
``limits``), ports (``hub``, ``online``, ``budgets``, ``outage``), what every outbox to the
outside world shares (``outbound``), small tools (``gate``, ``periodic``, ``ratelimit``) and
``wiring``, what each capability's build registers on. It imports no capability (the contract
"The domain's capabilities over its kernel")."""
