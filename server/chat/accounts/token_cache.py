"""Verified tokens: the claims of a JWT that decoded and verified, kept by the token itself.

A client presents the same token on every connect and every REST call (and a reconnect storm
presents each token again at once), and checking its signature with pyjwt is most of a token
check (about 36 us of a 0.14 ms connect). A token's signature and claims cannot change, so
once they pass they are remembered; what can change is only time and the user:

- time: a remembered token is judged by the codec's own rule on the codec's own clock
  (``TokenCodec.check_times``) on every use, so it is refused ``token_expired`` exactly
  when the decoder would refuse it, and then forgotten;
- the user (disabled, logged out): ``UserService.verify`` checks the user and the token
  version against ``KnownUsers``, which hub news keeps current, on every check, cached or not.

Only tokens that passed are kept (a refusal costs a decode every time, as before), at most
``SIZE``, the least recently used dropped first. An entry is the token and its ``Claims``
(slots, no decoded dict): about 0.3 KB and the token's string (0.2 KB; the connection keeps
none), 26 MB when full. A hit costs about 0.8 us, a decode 34 us. API tokens (PROTOCOL.md
section 12) are not JWTs and have their own cache (``api_tokens.KnownTokens``).
"""

from __future__ import annotations

from collections import OrderedDict

from server.chat.accounts.security import Claims, TokenCodec
from server.chat.kernel.errors import ChatError

SIZE = 50_000  # one per socket at the node's target of 50,000 sockets


class VerifiedTokens:
    """``TokenCodec.decode`` with a memory of the tokens that passed it."""

    def __init__(self, codec: TokenCodec, size: int = SIZE) -> None:
        self.codec = codec
        self.size = size
        self._claims: OrderedDict[str, Claims] = OrderedDict()  # O(1) drop of the oldest

    def __len__(self) -> int:
        return len(self._claims)

    def __contains__(self, token: object) -> bool:
        return token in self._claims

    def decode(self, token: str) -> Claims:
        """The token's claims, from memory while it is current; raises what ``TokenCodec.decode``
        raises (``token_expired``, ``unauthorized``)."""
        claims = self._claims.get(token)
        if claims is None:
            return self._remember(token, self.codec.decode(token))
        assert claims.expires_at is not None  # a JWT's claims always carry one
        try:
            self.codec.check_times(claims.issued_at.timestamp(), claims.expires_at.timestamp())
        except ChatError:
            del self._claims[token]  # the decoder judges it from now on, by the same rule
            raise
        self._claims.move_to_end(token)
        return claims

    def _remember(self, token: str, claims: Claims) -> Claims:
        if len(self._claims) >= self.size:
            self._claims.popitem(last=False)
        self._claims[token] = claims
        return claims
