"""A namespace's ``canaria-notifications`` (pure): parsing names the bad key, a Secret is
never named in another namespace, and the rollout's list adds to the namespace's (replacing
the entry for the same destination)."""

from __future__ import annotations

import pytest

from monitoring.notify.defaults import merge, parse_defaults, parse_local_file
from monitoring.notify.endpoints import NotificationSpecError, parse_notifications
from monitoring.notify.events import Event

SLACK = "- provider: slack\n  secretRef: {name: ml-slack}\n"
AUDIT = "- provider: webhook\n  secretRef: {name: ml-audit}\n  events: [step, failed]\n"


def test_providers_parse_like_a_rollouts_entries() -> None:
    slack, audit = parse_defaults({"providers": SLACK + AUDIT})
    assert (slack.provider, slack.secret_name, slack.secret_key) == ("slack", "ml-slack", "url")
    assert audit.events == frozenset({Event.STEP, Event.FAILED})
    assert parse_defaults(None) == () and parse_defaults({}) == ()
    assert parse_defaults({"providers": ""}) == ()  # an empty list: no defaults


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"provider": SLACK}, "data.provider: unknown key (the one key is providers)"),
        ({"providers": "- provider: [unclosed"}, "data.providers: not valid YAML (line 1)"),
        ({"providers": "provider: slack"}, "data.providers: must be a list"),
        ({"providers": SLACK + "- provider: pager\n"}, "data.providers[1].provider: must be"),
        (
            {"providers": "- provider: slack\n  secretRef: {name: s, namespace: kube-system}\n"},
            "data.providers[0].secretRef: must be {name, key?}",
        ),
        ({"providers": "- {provider: teams}\n"}, "data.providers[0].secretRef.name: required"),
        ({"providers": "- {provider: slack, urlEnv: A, secretRef: {name: s}}"}, "not both"),
    ],
    ids=["unknown-key", "yaml", "not-a-list", "provider", "other-namespace", "no-source", "both"],
)
def test_invalid_content_is_refused_naming_the_key(data: dict[str, str], message: str) -> None:
    with pytest.raises(NotificationSpecError) as raised:
        parse_defaults(data)
    assert message in str(raised.value)


def test_a_local_file_is_the_configmap_manifest() -> None:
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"providers": SLACK}}
    assert [e.secret_name for e in parse_local_file(doc)] == ["ml-slack"]
    assert parse_local_file(None) == ()
    with pytest.raises(NotificationSpecError, match="kind: must be ConfigMap"):
        parse_local_file({"providers": SLACK})


def test_the_rollouts_list_adds_and_replaces_the_same_destination() -> None:
    shared = parse_defaults({"providers": SLACK + AUDIT})
    own = parse_notifications(
        [
            {"provider": "webhook", "secretRef": {"name": "ml-audit"}, "events": ["started"]},
            {"provider": "teams", "secretRef": {"name": "churn-teams"}},
            {"provider": "slack", "secretRef": {"name": "ml-slack", "key": "other"}},
        ]
    )
    merged = merge(shared, own)
    assert [(e.provider, e.secret_name, e.secret_key) for e in merged] == [
        ("slack", "ml-slack", "url"),  # the namespace's, untouched
        ("webhook", "ml-audit", "url"),  # the rollout's version of the shared audit hook
        ("teams", "churn-teams", "url"),  # the rollout's own
        ("slack", "ml-slack", "other"),  # another key of the Secret: another destination
    ]
    assert merged[1].events == frozenset({Event.STARTED})  # no second post to the same hook
    assert merge(shared, ()) == shared and merge((), own) == tuple(own)
