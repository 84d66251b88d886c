"""Many values as one argument of a Redis script: the JSON array a script reads back."""

from __future__ import annotations

import json

from server.adapters.cluster.lua_args import json_strings


def test_values_become_one_json_array_of_strings_in_order():
    assert json.loads(json_strings(["7", "12", "7"])) == ["7", "12", "7"]
    assert json.loads(json_strings(str(user) for user in range(1, 10_001))) == [
        str(user) for user in range(1, 10_001)
    ]


def test_no_values_are_an_empty_array_not_one_empty_string():
    assert json.loads(json_strings([])) == []
    assert json.loads(json_strings(iter(()))) == []
