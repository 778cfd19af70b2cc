"""The `changes` summary: small values shown, secrets and large values never."""

from __future__ import annotations

from labelops_common.audit import MASK, bounded_ids, changes_between, mask_secrets, values_summary
from labelops_common.audit.changes import MAX_IDS


def test_small_scalars_show_old_and_new_and_unchanged_fields_are_left_out() -> None:
    changes = changes_between(
        {"title": "A", "color": "#fff", "maximum_annotations": 1},
        {"title": "B", "color": "#fff", "maximum_annotations": 2},
    )
    assert changes == {
        "title": {"old": "A", "new": "B"},
        "maximum_annotations": {"old": 1, "new": 2},
    }


def test_secret_fields_are_masked_whatever_their_names_look_like() -> None:
    before = {
        "task_data_password": "old-pass",
        "secrets": "enc-1",
        "headers_encrypted": "enc-h",
        "basic_auth_pass": "p1",
        "settings.aws_secret_access_key": "AKIASECRET",
        "settings.account_key": "azure-key",
        "token": "t1",
    }
    after = {key: value + "-new" for key, value in before.items()}
    changes = changes_between(before, after)
    assert set(changes) == set(before)
    for change in changes.values():
        assert change == {"old": MASK, "new": MASK}
    text = repr(changes)
    for value in [*before.values(), *after.values()]:
        assert value not in text


def test_large_or_nested_values_are_flagged_without_their_values() -> None:
    changes = changes_between(
        {"label_config": "<View>" + "x" * 500 + "</View>", "meta": {"a": 1}},
        {"label_config": "<View>" + "y" * 500 + "</View>", "meta": {"a": 2}},
    )
    assert changes == {"label_config": {"changed": True}, "meta": {"changed": True}}


def test_a_url_keeps_its_host_but_not_its_user_and_password() -> None:
    changes = changes_between({"url": None}, {"url": "http://bob:hunter2@ml.example:9090/"})
    assert changes == {"url": {"old": None, "new": f"http://{MASK}@ml.example:9090/"}}
    assert "hunter2" not in repr(changes)


def test_values_summary_lists_the_set_fields_only() -> None:
    assert values_summary({"title": "T", "description": None}) == {
        "title": {"old": None, "new": "T"}
    }


def test_bounded_ids_keep_the_count_and_the_first_ids() -> None:
    summary = bounded_ids(list(range(1_000)))
    assert summary["count"] == 1_000
    assert summary["ids"] == list(range(MAX_IDS))
    assert summary["ids_truncated"] is True
    assert bounded_ids([3, 4]) == {"count": 2, "ids": [3, 4]}


def test_mask_secrets_masks_secret_keys_at_any_depth() -> None:
    masked = mask_secrets(
        {
            "settings": {"aws_access_key_id": "AKIA1", "bucket": "b"},
            "webhook": {"headers": {"Authorization": "Bearer x"}},
            "password": {"old": "a", "new": "b"},
        }
    )
    assert masked == {
        "settings": {"aws_access_key_id": MASK, "bucket": "b"},
        "webhook": {"headers": MASK},
        "password": {"old": MASK, "new": MASK},
    }
