"""Single sign-on and the workspace's first owner (PROTOCOL.md section 19): the first account of
an empty server owns the workspace whichever way it was made, here by a provider's sign-in; the
next one is a member."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import Settings
from tests.sso_support import Provider, sign_in, sso_settings
from tests.support import bearer

pytestmark = pytest.mark.both_databases


@pytest.fixture
def settings(tmp_path: Path, oidc: Provider) -> Settings:
    return sso_settings(tmp_path / "data", oidc.issuer)


async def test_the_first_account_made_by_single_sign_on_owns_the_workspace(sso):
    first = await sign_in(sso, "alice")
    second = await sign_in(sso, "carol")
    for answer, role in ((first, "owner"), (second, "member")):
        mine = await sso.http.get("/api/users/me", headers=bearer(answer["token"]))
        assert mine.status_code == 200, mine.text
        assert mine.json()["role"] == role
    listed = await sso.http.get("/api/admin/users", headers=bearer(first["token"]))
    assert [row["methods"] for row in listed.json()["users"]] == [["sso"], ["sso"]]
