"""The Kommo REST API v4 emulator over real HTTP: shapes, 204s, errors, ownership, limits, faults."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import requests
from constants import ACCOUNT_ID, CHANNEL_ID, CHANNEL_SECRET
from emulator_helpers import wait_for_requests
from rest_helpers import (
    ACME_B_TOKEN,
    ACME_ID,
    ACME_TOKEN,
    ALL_TOKENS,
    GLOBEX_TOKEN,
    INTEGRATION_A,
    api,
    create_source,
    field_errors,
    hal,
    no_content,
    problem,
    rest_server,
)

from kommo_provider import signing
from kommo_provider.emulator import (
    MAX_SOURCES_PER_INTEGRATION,
    EmulatorServer,
)


@pytest.fixture(scope="module")
def rest_emulator_server() -> Iterator[EmulatorServer]:
    server = rest_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emulator(rest_emulator_server: EmulatorServer) -> EmulatorServer:
    """The module's REST emulator with no sources, webhooks, logged requests or faults."""
    rest_emulator_server.reset()
    return rest_emulator_server


def pipelines_of(emulator: EmulatorServer, token: str = ACME_TOKEN) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = hal(api(emulator, "GET", "/api/v4/leads/pipelines", token=token))[
        "_embedded"
    ]["pipelines"]
    return found


# Account and pipelines ----------------------------------------------------------------------------


def test_account_shows_id_name_subdomain_and_amojo_id_only_when_asked(emulator: EmulatorServer) -> None:
    plain = hal(api(emulator, "GET", "/api/v4/account"))
    with_amojo = hal(api(emulator, "GET", "/api/v4/account", params={"with": "users_groups,amojo_id"}))

    assert (plain["id"], plain["name"], plain["subdomain"]) == (ACME_ID, "Acme", "acme")
    assert "amojo_id" not in plain
    assert with_amojo["amojo_id"] == ACCOUNT_ID
    assert plain["_links"]["self"]["href"] == emulator.url + "/api/v4/account"


def test_the_account_amojo_id_is_the_id_amojo_connect_takes(emulator: EmulatorServer) -> None:
    amojo_id = hal(api(emulator, "GET", "/api/v4/account", params={"with": "amojo_id"}))["amojo_id"]
    path = f"/v2/origin/custom/{CHANNEL_ID}/connect"
    body = signing.encode_json({"account_id": amojo_id})
    headers = signing.signed_headers(CHANNEL_SECRET, "POST", path, body, datetime.now(timezone.utc))

    connected = requests.post(emulator.url + path, data=body, headers=headers, timeout=5)

    assert connected.status_code == 200
    assert connected.json()["scope_id"] == f"{CHANNEL_ID}_{amojo_id}"


def test_pipelines_embed_their_statuses_and_exactly_one_is_main(emulator: EmulatorServer) -> None:
    body = hal(api(emulator, "GET", "/api/v4/leads/pipelines"))

    pipelines = body["_embedded"]["pipelines"]
    assert body["_total_items"] == 2
    assert [(p["name"], p["is_main"], p["is_archive"]) for p in pipelines] == [
        ("Sales", True, False),
        ("Support", False, False),
    ]
    for pipeline in pipelines:
        statuses = pipeline["_embedded"]["statuses"]
        assert {s["pipeline_id"] for s in statuses} == {pipeline["id"]}
        assert {142, 143} <= {s["id"] for s in statuses}
        assert pipeline["account_id"] == ACME_ID
    assert pipelines_of(emulator, GLOBEX_TOKEN)[0]["id"] not in {p["id"] for p in pipelines}


# Sources: create, read, list ----------------------------------------------------------------------


def test_no_sources_is_204_without_a_body(emulator: EmulatorServer) -> None:
    no_content(api(emulator, "GET", "/api/v4/sources"))


def test_create_returns_ids_in_the_main_pipeline_and_echoes_request_ids(emulator: EmulatorServer) -> None:
    support = pipelines_of(emulator)[1]["id"]
    batch = [
        {"name": "Website", "external_id": "site", "request_id": "web"},
        {"name": "WhatsApp", "external_id": "wa", "pipeline_id": support, "origin_code": "waba.x"},
    ]

    body = hal(api(emulator, "POST", "/api/v4/sources", batch))

    web, whatsapp = body["_embedded"]["sources"]
    main = pipelines_of(emulator)[0]["id"]
    assert (web["request_id"], whatsapp["request_id"]) == ("web", "1")
    assert (web["pipeline_id"], whatsapp["pipeline_id"]) == (main, support)
    assert web["id"] != whatsapp["id"]
    assert (web["default"], web["origin_code"], web["services"]) == (False, None, [])
    assert whatsapp["origin_code"] == "waba.x"
    assert [s.external_id for s in emulator.rest.sources("acme")] == ["site", "wa"]


def test_a_created_source_reads_back_through_its_self_link(emulator: EmulatorServer) -> None:
    services = [
        {"type": "whatsapp", "params": {"waba": True}, "pages": [{"name": "a", "id": "1", "link": "x"}]}
    ]
    created = create_source(emulator, services=services, default=True)

    response = requests.get(
        created["_links"]["self"]["href"], headers={"Authorization": f"Bearer {ACME_TOKEN}"}, timeout=5
    )

    source = hal(response)
    assert source["_links"]["self"]["href"] == emulator.url + f"/api/v4/sources/{created['id']}"
    assert {k: source[k] for k in ("id", "name", "external_id", "default", "services")} == {
        "id": created["id"],
        "name": "Website",
        "external_id": "site",
        "default": True,
        "services": services,
    }


def test_list_filters_by_external_id(emulator: EmulatorServer) -> None:
    create_source(emulator, external_id="one")
    create_source(emulator, external_id="two")

    listed = hal(api(emulator, "GET", "/api/v4/sources"))
    filtered = hal(api(emulator, "GET", "/api/v4/sources", params={"filter[external_id]": "two"}))

    assert [s["external_id"] for s in listed["_embedded"]["sources"]] == ["one", "two"]
    assert [s["external_id"] for s in filtered["_embedded"]["sources"]] == ["two"]
    no_content(api(emulator, "GET", "/api/v4/sources", params={"filter[external_id]": "three"}))


def test_unknown_source_id_is_404_and_a_deleted_one_204(emulator: EmulatorServer) -> None:
    source_id = create_source(emulator)["id"]

    no_content(api(emulator, "DELETE", f"/api/v4/sources/{source_id}"))

    no_content(api(emulator, "GET", f"/api/v4/sources/{source_id}"))
    problem(api(emulator, "GET", f"/api/v4/sources/{source_id + 1000}"), 404)
    problem(api(emulator, "DELETE", f"/api/v4/sources/{source_id}"), 404)
    no_content(api(emulator, "GET", "/api/v4/sources"))


# Sources: update and delete -----------------------------------------------------------------------


def test_patch_one_source_changes_only_the_fields_given(emulator: EmulatorServer) -> None:
    created = create_source(emulator, origin_code="web")
    support = pipelines_of(emulator)[1]["id"]

    patched = hal(api(emulator, "PATCH", f"/api/v4/sources/{created['id']}", {"pipeline_id": support}))

    assert (patched["name"], patched["pipeline_id"], patched["origin_code"]) == ("Website", support, "web")
    (stored,) = emulator.rest.sources("acme")
    assert stored.pipeline_id == support


def test_batch_patch_is_all_or_nothing(emulator: EmulatorServer) -> None:
    first = create_source(emulator, external_id="one")
    second = create_source(emulator, external_id="two")
    batch = [{"id": first["id"], "name": "Renamed"}, {"id": second["id"], "pipeline_id": 999}]

    refused = api(emulator, "PATCH", "/api/v4/sources", batch)
    batch[1] = {"id": second["id"], "name": "Also renamed"}
    accepted = hal(api(emulator, "PATCH", "/api/v4/sources", batch))

    assert field_errors(refused) == [("NotSupportedChoice", "1.pipeline_id")]
    assert [s["name"] for s in accepted["_embedded"]["sources"]] == ["Renamed", "Also renamed"]


def test_patch_of_an_unknown_or_deleted_source_is_404(emulator: EmulatorServer) -> None:
    source_id = create_source(emulator)["id"]
    api(emulator, "DELETE", f"/api/v4/sources/{source_id}")

    problem(api(emulator, "PATCH", f"/api/v4/sources/{source_id}", {"name": "x"}), 404)
    problem(api(emulator, "PATCH", "/api/v4/sources", [{"id": source_id, "name": "x"}]), 404)


def test_batch_delete_deletes_all_or_none(emulator: EmulatorServer) -> None:
    first = create_source(emulator, external_id="one")["id"]
    second = create_source(emulator, external_id="two")["id"]

    missing = api(emulator, "DELETE", "/api/v4/sources", [{"id": first}, {"id": second + 1000}])
    assert len(emulator.rest.sources("acme")) == 2
    no_content(api(emulator, "DELETE", "/api/v4/sources", [{"id": first}, {"id": second}]))

    problem(missing, 404)
    assert emulator.rest.sources("acme") == []


# Sources: validation ------------------------------------------------------------------------------

BAD_SOURCES: dict[str, tuple[dict[str, Any], tuple[str, str]]] = {
    "name-missing": ({"external_id": "x"}, ("FieldMissing", "0.name")),
    "name-empty": ({"name": " ", "external_id": "x"}, ("InvalidValue", "0.name")),
    "name-number": ({"name": 5, "external_id": "x"}, ("InvalidType", "0.name")),
    "external-id-missing": ({"name": "n"}, ("FieldMissing", "0.external_id")),
    "external-id-41": ({"name": "n", "external_id": "x" * 41}, ("InvalidValue", "0.external_id")),
    "external-id-tab": ({"name": "n", "external_id": "a\tb"}, ("InvalidValue", "0.external_id")),
    "external-id-non-ascii": ({"name": "n", "external_id": "café"}, ("InvalidValue", "0.external_id")),
    "pipeline-unknown": (
        {"name": "n", "external_id": "x", "pipeline_id": 12345},
        ("NotSupportedChoice", "0.pipeline_id"),
    ),
    "pipeline-string": (
        {"name": "n", "external_id": "x", "pipeline_id": "1"},
        ("InvalidType", "0.pipeline_id"),
    ),
    "origin-code-21": (
        {"name": "n", "external_id": "x", "origin_code": "c" * 21},
        ("InvalidValue", "0.origin_code"),
    ),
    "origin-code-digits": (
        {"name": "n", "external_id": "x", "origin_code": "2024"},
        ("InvalidValue", "0.origin_code"),
    ),
    "default-string": ({"name": "n", "external_id": "x", "default": "yes"}, ("InvalidType", "0.default")),
    "services-object": (
        {"name": "n", "external_id": "x", "services": {"type": "w"}},
        ("InvalidType", "0.services"),
    ),
    "service-no-type": (
        {"name": "n", "external_id": "x", "services": [{}]},
        ("InvalidType", "0.services.0.type"),
    ),
    "service-waba-string": (
        {"name": "n", "external_id": "x", "services": [{"type": "whatsapp", "params": {"waba": "yes"}}]},
        ("InvalidType", "0.services.0.params.waba"),
    ),
    "service-pages-strings": (
        {"name": "n", "external_id": "x", "services": [{"type": "whatsapp", "pages": ["a"]}]},
        ("InvalidType", "0.services.0.pages.0"),
    ),
    "service-unknown-key": (
        {"name": "n", "external_id": "x", "services": [{"type": "whatsapp", "colour": 1}]},
        ("InvalidValue", "0.services.0.colour"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_SOURCES))
def test_bad_source_fields_are_400_naming_code_and_path(emulator: EmulatorServer, case: str) -> None:
    source, expected = BAD_SOURCES[case]

    response = api(emulator, "POST", "/api/v4/sources", [source])

    assert field_errors(response) == [expected]
    assert response.json()["validation-errors"][0]["request_id"] == "0"
    assert response.json()["detail"] == "Request validation failed"
    assert emulator.rest.sources() == []


def test_every_bad_item_of_a_batch_is_reported_and_none_is_created(emulator: EmulatorServer) -> None:
    batch = [
        {"name": "ok", "external_id": "a"},
        {"name": "", "external_id": "b", "request_id": "second"},
        {"name": "dup", "external_id": "a"},
    ]

    response = api(emulator, "POST", "/api/v4/sources", batch)

    groups = problem(response, 400)["validation-errors"]
    assert [(g["request_id"], [e["path"] for e in g["errors"]]) for g in groups] == [
        ("second", ["1.name"]),
    ]
    assert emulator.rest.sources() == []
    duplicate = api(emulator, "POST", "/api/v4/sources", [batch[0], batch[2]])
    assert field_errors(duplicate) == [("NotUnique", "1.external_id")]


def test_external_id_is_unique_per_integration(emulator: EmulatorServer) -> None:
    create_source(emulator, external_id="shared")

    again = api(emulator, "POST", "/api/v4/sources", [{"name": "n", "external_id": "shared"}])
    other_integration = create_source(emulator, token=ACME_B_TOKEN, external_id="shared")

    assert field_errors(again) == [("NotUnique", "0.external_id")]
    assert other_integration["external_id"] == "shared"


@pytest.mark.parametrize(
    ("data", "detail"),
    [(b"{not json", "not valid UTF-8 JSON"), (b'{"name": "n"}', "non-empty JSON array"), (b"[]", "array")],
    ids=["invalid-json", "object-not-array", "empty-array"],
)
def test_a_create_body_that_is_not_an_array_is_400(
    emulator: EmulatorServer, data: bytes, detail: str
) -> None:
    response = api(emulator, "POST", "/api/v4/sources", data=data)

    assert detail in problem(response, 400)["detail"]


def test_an_integration_has_at_most_100_sources(emulator: EmulatorServer) -> None:
    batch = [{"name": f"s{i}", "external_id": f"e{i}"} for i in range(MAX_SOURCES_PER_INTEGRATION)]
    hal(api(emulator, "POST", "/api/v4/sources", batch))

    over = api(emulator, "POST", "/api/v4/sources", [{"name": "one more", "external_id": "x"}])
    other_integration = create_source(emulator, token=ACME_B_TOKEN)

    assert field_errors(over) == [("LimitExceeded", "0")]
    assert len(emulator.rest.sources("acme", INTEGRATION_A)) == MAX_SOURCES_PER_INTEGRATION
    assert other_integration["id"]


# Ownership ----------------------------------------------------------------------------------------


def test_another_integration_neither_sees_nor_manages_the_sources(emulator: EmulatorServer) -> None:
    source_id = create_source(emulator)["id"]
    path = f"/api/v4/sources/{source_id}"

    for token in (ACME_B_TOKEN, GLOBEX_TOKEN):
        no_content(api(emulator, "GET", "/api/v4/sources", token=token))
        problem(api(emulator, "GET", path, token=token), 404)
        problem(api(emulator, "PATCH", path, {"name": "taken over"}, token=token), 404)
        problem(api(emulator, "DELETE", path, token=token), 404)
        problem(api(emulator, "DELETE", "/api/v4/sources", [{"id": source_id}], token=token), 404)

    assert hal(api(emulator, "GET", path))["name"] == "Website"


# Webhooks -----------------------------------------------------------------------------------------

HOOK = "https://hooks.example.com/kommo"


def test_webhook_subscribe_list_filter_and_unsubscribe(emulator: EmulatorServer) -> None:
    no_content(api(emulator, "GET", "/api/v4/webhooks"))

    created = hal(api(emulator, "POST", "/api/v4/webhooks", {"destination": HOOK, "settings": ["add_lead"]}))
    listed = hal(api(emulator, "GET", "/api/v4/webhooks"))["_embedded"]["webhooks"]
    filtered = hal(api(emulator, "GET", "/api/v4/webhooks", params={"filter[destination]": HOOK}))
    no_content(api(emulator, "GET", "/api/v4/webhooks", params={"filter[destination]": HOOK + "/x"}))
    no_content(api(emulator, "DELETE", "/api/v4/webhooks", {"destination": HOOK}))

    assert set(created) >= {"id", "destination", "settings", "sort", "disabled", "created_at", "updated_at"}
    assert (created["destination"], created["settings"], created["disabled"]) == (HOOK, ["add_lead"], False)
    assert created["created_by"] == ACME_ID + 7
    assert isinstance(created["created_at"], int) and created["created_at"] == created["updated_at"]
    assert listed == [created]
    assert filtered["_embedded"]["webhooks"] == [created]
    no_content(api(emulator, "GET", "/api/v4/webhooks"))


def test_posting_the_same_destination_again_replaces_settings_and_sort(emulator: EmulatorServer) -> None:
    first = hal(api(emulator, "POST", "/api/v4/webhooks", {"destination": HOOK, "settings": ["add_lead"]}))
    (hook,) = emulator.rest.webhooks("acme")
    emulator.rest.change_webhook(hook.id, disabled=True)

    second = hal(
        api(
            emulator,
            "POST",
            "/api/v4/webhooks",
            {"destination": HOOK, "settings": ["update_lead", "add_talk", "update_lead"], "sort": 5},
        )
    )

    assert second["id"] == first["id"]
    assert (second["settings"], second["sort"], second["disabled"]) == (["update_lead", "add_talk"], 5, False)
    assert len(emulator.rest.webhooks("acme")) == 1


def test_webhooks_belong_to_the_account_not_the_integration(emulator: EmulatorServer) -> None:
    hal(api(emulator, "POST", "/api/v4/webhooks", {"destination": HOOK, "settings": ["add_lead"]}))

    seen_by_b = hal(api(emulator, "GET", "/api/v4/webhooks", token=ACME_B_TOKEN))

    assert [w["destination"] for w in seen_by_b["_embedded"]["webhooks"]] == [HOOK]
    no_content(api(emulator, "GET", "/api/v4/webhooks", token=GLOBEX_TOKEN))
    problem(api(emulator, "DELETE", "/api/v4/webhooks", {"destination": HOOK}, token=GLOBEX_TOKEN), 404)


def test_the_unfiltered_webhook_list_is_every_webhook_of_the_account_with_its_id(
    emulator: EmulatorServer,
) -> None:
    made = [
        hal(
            api(
                emulator,
                "POST",
                "/api/v4/webhooks",
                {"destination": f"{HOOK}/{n}", "settings": ["add_lead"]},
                token=token,
            )
        )
        for n, token in enumerate((ACME_TOKEN, ACME_B_TOKEN, GLOBEX_TOKEN))
    ]

    listed = hal(api(emulator, "GET", "/api/v4/webhooks"))

    assert listed["_total_items"] == 2
    hooks = listed["_embedded"]["webhooks"]
    assert [(h["id"], h["destination"]) for h in hooks] == [(m["id"], m["destination"]) for m in made[:2]]
    assert len({h["id"] for h in hooks}) == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"settings": ["add_lead"]}, [("InvalidValue", "destination")]),
        ({"destination": "not a url", "settings": ["add_lead"]}, [("InvalidValue", "destination")]),
        ({"destination": "ftp://example.com/x", "settings": ["add_lead"]}, [("InvalidValue", "destination")]),
        ({"destination": HOOK, "settings": ["add_lead", "explode"]}, [("NotSupportedChoice", "settings.1")]),
        ({"destination": HOOK, "settings": []}, [("InvalidType", "settings")]),
        ({"destination": HOOK}, [("FieldMissing", "settings")]),
        ({"destination": HOOK, "settings": ["add_lead"], "sort": -1}, [("InvalidType", "sort")]),
    ],
    ids=["no-destination", "not-a-url", "ftp", "unknown-event", "no-events", "no-settings", "negative-sort"],
)
def test_bad_webhooks_are_400_naming_the_field(
    emulator: EmulatorServer, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert field_errors(api(emulator, "POST", "/api/v4/webhooks", body)) == expected
    assert emulator.rest.webhooks() == []


def test_unsubscribing_an_unknown_destination_is_404_and_a_bad_one_400(emulator: EmulatorServer) -> None:
    problem(api(emulator, "DELETE", "/api/v4/webhooks", {"destination": HOOK}), 404)
    assert field_errors(api(emulator, "DELETE", "/api/v4/webhooks", {"destination": "x"})) == [
        ("InvalidValue", "destination")
    ]


# Chat templates -----------------------------------------------------------------------------------

TEMPLATES = "/api/v4/chats/templates"
WABA: dict[str, Any] = {
    "name": "Order shipped",
    "content": "Hello {{contact.name}}, your order is on its way",
    "type": "waba",
    "external_id": "shipped",
    "buttons": [{"type": "url", "text": "Track", "url": "https://shop.example.com/track"}],
    "waba_category": "UTILITY",
    "waba_language": "en_US",
    "waba_header": "Your order",
    "waba_footer": "Reply STOP to opt out",
    "waba_examples": {"{{contact.name}}": "Ann"},
}


def create_template(emulator: EmulatorServer, token: str = ACME_TOKEN, **fields: Any) -> dict[str, Any]:
    """Create one template over HTTP (defaults: an amocrm template with a name and content)."""
    body = {"name": "Greeting", "content": "Hello!", "external_id": "greeting", **fields}
    (created,) = hal(api(emulator, "POST", TEMPLATES, [body], token=token))["_embedded"]["chat_templates"]
    result: dict[str, Any] = created
    return result


def test_templates_are_created_with_ids_and_read_back_with_their_reviews(emulator: EmulatorServer) -> None:
    no_content(api(emulator, "GET", TEMPLATES))
    batch = [{"name": "Greeting", "content": "Hi", "buttons": [{"type": "inline", "text": "Yes"}]}, WABA]

    created = hal(api(emulator, "POST", TEMPLATES, batch))["_embedded"]["chat_templates"]
    listed = hal(api(emulator, "GET", TEMPLATES, params={"with": "reviews"}))["_embedded"]["chat_templates"]
    waba = hal(api(emulator, "GET", f"{TEMPLATES}/{created[1]['id']}", params={"with": "reviews"}))

    plain, _ = created
    assert [t["request_id"] for t in created] == ["0", "1"]
    assert (plain["type"], plain["is_editable"], plain["account_id"]) == ("amocrm", True, ACME_ID)
    assert plain["buttons"] == [{"type": "inline", "text": "Yes"}] and plain["waba_category"] is None
    assert isinstance(plain["created_at"], int) and plain["created_at"] == plain["updated_at"]
    assert "_embedded" not in plain
    assert [t["_embedded"]["reviews"] for t in listed] == [
        [],
        [{"id": created[1]["id"], "source_id": None, "status": "draft", "reject_reason": None}],
    ]
    assert {k: waba[k] for k in WABA} == WABA
    assert waba["is_editable"] is True
    assert waba["_links"]["self"]["href"] == emulator.url + f"{TEMPLATES}/{created[1]['id']}"


def test_templates_filter_by_external_id(emulator: EmulatorServer) -> None:
    create_template(emulator, external_id="one")
    create_template(emulator, external_id="two")

    found = hal(api(emulator, "GET", TEMPLATES, params={"filter[external_id]": "two"}))

    assert [t["external_id"] for t in found["_embedded"]["chat_templates"]] == ["two"]
    no_content(api(emulator, "GET", TEMPLATES, params={"filter[external_id]": "three"}))


def test_only_the_integration_that_made_a_template_sees_or_manages_it(emulator: EmulatorServer) -> None:
    template_id = create_template(emulator)["id"]
    path = f"{TEMPLATES}/{template_id}"

    for token in (ACME_B_TOKEN, GLOBEX_TOKEN):
        no_content(api(emulator, "GET", TEMPLATES, token=token))
        problem(api(emulator, "GET", path, token=token), 404)
        problem(api(emulator, "PATCH", path, {"name": "taken over"}, token=token), 404)
        problem(api(emulator, "DELETE", path, token=token), 404)
        problem(api(emulator, "POST", f"{path}/review", token=token), 404)

    assert hal(api(emulator, "GET", path))["name"] == "Greeting"


def test_a_deleted_template_answers_204_and_a_delete_answers_result_true(emulator: EmulatorServer) -> None:
    first, second, third = (create_template(emulator, external_id=x)["id"] for x in ("a", "b", "c"))

    one = api(emulator, "DELETE", f"{TEMPLATES}/{first}")
    batch = api(emulator, "DELETE", TEMPLATES, [{"id": second}, {"id": third}])

    assert hal(one) == {"result": True} and hal(batch) == {"result": True}
    no_content(api(emulator, "GET", f"{TEMPLATES}/{first}"))
    no_content(api(emulator, "GET", TEMPLATES))
    problem(api(emulator, "DELETE", f"{TEMPLATES}/{first}"), 404)
    problem(api(emulator, "GET", f"{TEMPLATES}/{third + 1000}"), 404)


def test_templates_are_patched_one_or_many(emulator: EmulatorServer) -> None:
    first = create_template(emulator, external_id="one")
    second = create_template(emulator, external_id="two", **{k: WABA[k] for k in ("type", "waba_language")})

    one = hal(api(emulator, "PATCH", f"{TEMPLATES}/{first['id']}", {"content": "Hello again"}))
    many = hal(
        api(
            emulator,
            "PATCH",
            TEMPLATES,
            [{"id": first["id"], "name": "Renamed"}, {"id": second["id"], "waba_footer": "Bye"}],
        )
    )["_embedded"]["chat_templates"]

    assert (one["name"], one["content"]) == ("Greeting", "Hello again")
    assert [(t["name"], t["waba_footer"]) for t in many] == [("Renamed", None), ("Greeting", "Bye")]
    assert [t.content for t in emulator.rest.objects("chat_templates", "acme")] == ["Hello again", "Hello!"]


def test_a_waba_template_is_editable_only_in_draft(emulator: EmulatorServer) -> None:
    template_id = create_template(emulator, **WABA)["id"]
    amocrm_id = create_template(emulator, external_id="plain")["id"]

    reviews = hal(api(emulator, "POST", f"{TEMPLATES}/{template_id}/review"))
    refused = api(emulator, "PATCH", f"{TEMPLATES}/{template_id}", {"content": "changed"})
    in_batch = api(
        emulator, "PATCH", TEMPLATES, [{"id": amocrm_id, "name": "x"}, {"id": template_id, "name": "y"}]
    )
    amocrm = hal(api(emulator, "PATCH", f"{TEMPLATES}/{amocrm_id}", {"content": "still editable"}))

    assert [r["status"] for r in reviews["_embedded"]["reviews"]] == ["review"]
    body = problem(refused, 400)
    assert "only while its review status is draft" in body["detail"]
    assert field_errors(refused) == [("NotEditable", "id")]
    assert field_errors(in_batch) == [("NotEditable", "1.id")]
    assert hal(api(emulator, "GET", f"{TEMPLATES}/{template_id}"))["is_editable"] is False
    assert amocrm["content"] == "still editable" and amocrm["is_editable"] is True
    assert emulator.rest.objects("chat_templates", "acme")[0].content == WABA["content"]


def test_review_is_for_waba_templates_in_draft(emulator: EmulatorServer) -> None:
    amocrm_id = create_template(emulator)["id"]
    waba_id = create_template(emulator, **WABA)["id"]

    amocrm = api(emulator, "POST", f"{TEMPLATES}/{amocrm_id}/review")
    hal(api(emulator, "POST", f"{TEMPLATES}/{waba_id}/review"))
    again = api(emulator, "POST", f"{TEMPLATES}/{waba_id}/review")

    assert "only waba templates" in problem(amocrm, 400)["detail"]
    assert "review" in problem(again, 400)["detail"]


def test_a_template_type_cannot_change(emulator: EmulatorServer) -> None:
    template_id = create_template(emulator)["id"]

    same = hal(api(emulator, "PATCH", f"{TEMPLATES}/{template_id}", {"type": "amocrm", "name": "Same type"}))
    changed = api(emulator, "PATCH", f"{TEMPLATES}/{template_id}", {"type": "waba"})

    assert same["name"] == "Same type"
    assert field_errors(changed) == [("NotSupportedChoice", "type")]


BAD_TEMPLATES: dict[str, tuple[dict[str, Any], tuple[str, str]]] = {
    "name-missing": ({"content": "c"}, ("FieldMissing", "0.name")),
    "name-blank": ({"name": " ", "content": "c"}, ("InvalidValue", "0.name")),
    "name-256": ({"name": "n" * 256, "content": "c"}, ("InvalidValue", "0.name")),
    "name-number": ({"name": 5, "content": "c"}, ("InvalidType", "0.name")),
    "content-missing": ({"name": "n"}, ("FieldMissing", "0.content")),
    "content-empty": ({"name": "n", "content": ""}, ("InvalidValue", "0.content")),
    "type-sms": ({"name": "n", "content": "c", "type": "sms"}, ("NotSupportedChoice", "0.type")),
    "buttons-object": ({"name": "n", "content": "c", "buttons": {}}, ("InvalidType", "0.buttons")),
    "button-string": ({"name": "n", "content": "c", "buttons": ["Yes"]}, ("InvalidType", "0.buttons.0")),
    "button-type": (
        {"name": "n", "content": "c", "buttons": [{"type": "call", "text": "x"}]},
        ("NotSupportedChoice", "0.buttons.0.type"),
    ),
    "inline-no-text": (
        {"name": "n", "content": "c", "buttons": [{"type": "inline"}]},
        ("FieldMissing", "0.buttons.0.text"),
    ),
    "inline-with-url": (
        {"name": "n", "content": "c", "buttons": [{"type": "inline", "text": "x", "url": "https://a.b"}]},
        ("InvalidValue", "0.buttons.0.url"),
    ),
    "url-no-url": (
        {"name": "n", "content": "c", "buttons": [{"type": "url", "text": "x"}]},
        ("InvalidValue", "0.buttons.0.url"),
    ),
    "url-ftp": (
        {"name": "n", "content": "c", "buttons": [{"type": "url", "text": "x", "url": "ftp://a.b/c"}]},
        ("InvalidValue", "0.buttons.0.url"),
    ),
    "button-unknown-key": (
        {"name": "n", "content": "c", "buttons": [{"type": "inline", "text": "x", "colour": "red"}]},
        ("InvalidValue", "0.buttons.0.colour"),
    ),
    "waba-category": (
        {"name": "n", "content": "c", "type": "waba", "waba_category": "SALES"},
        ("NotSupportedChoice", "0.waba_category"),
    ),
    "waba-language": (
        {"name": "n", "content": "c", "type": "waba", "waba_language": "English"},
        ("InvalidValue", "0.waba_language"),
    ),
    "waba-examples-list": (
        {"name": "n", "content": "c", "type": "waba", "waba_examples": ["Ann"]},
        ("InvalidType", "0.waba_examples"),
    ),
    "waba-field-on-amocrm": (
        {"name": "n", "content": "c", "waba_footer": "Bye"},
        ("InvalidValue", "0.waba_footer"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_TEMPLATES))
def test_bad_template_fields_are_400_naming_code_and_path(emulator: EmulatorServer, case: str) -> None:
    template, expected = BAD_TEMPLATES[case]

    response = api(emulator, "POST", TEMPLATES, [template])

    assert field_errors(response) == [expected]
    assert emulator.rest.objects("chat_templates") == []


# Authentication -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": f"Token {ACME_TOKEN}"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer a.b.c"},
    ],
    ids=["no-header", "wrong-scheme", "empty-token", "unknown-token"],
)
def test_a_missing_or_unknown_token_is_401(emulator: EmulatorServer, headers: dict[str, str]) -> None:
    for path in ("/api/v4/account", "/api/v4/sources", "/api/v4/webhooks", "/api/v4/unknown"):
        response = requests.get(emulator.url + path, headers=headers, timeout=5)
        body = problem(response, 401)
        assert body["title"] == "Unauthorized"
        assert ACME_TOKEN not in response.text


def test_an_expired_token_is_401_saying_so(emulator: EmulatorServer) -> None:
    expired = emulator.rest.mint_token("acme", lifetime_seconds=-1)

    response = api(emulator, "GET", "/api/v4/account", token=expired)

    assert "expired" in problem(response, 401)["detail"]
    assert expired not in response.text


def test_a_token_expires_by_the_emulator_clock(emulator: EmulatorServer) -> None:
    short = emulator.rest.mint_token("acme", lifetime_seconds=3600)
    assert api(emulator, "GET", "/api/v4/account", token=short).status_code == 200

    emulator.faults.clock_offset_seconds = 2 * 3600

    problem(api(emulator, "GET", "/api/v4/account", token=short), 401)


# Rate limit, faults, routing ----------------------------------------------------------------------


def test_rate_limit_is_per_account_with_retry_after(emulator: EmulatorServer) -> None:
    emulator.faults.set_rate_limit(7)
    emulator.faults.retry_after = 2

    with requests.Session() as session:
        headers = {"Authorization": f"Bearer {ACME_TOKEN}"}
        statuses = [
            session.get(emulator.url + "/api/v4/account", headers=headers, timeout=5) for _ in range(8)
        ]
    other = api(emulator, "GET", "/api/v4/account", token=GLOBEX_TOKEN)

    assert [r.status_code for r in statuses[:7]] == [200] * 7
    limited = statuses[7]
    assert problem(limited, 429)["title"] == "Too Many Requests"
    assert limited.headers["Retry-After"] == "2"
    assert other.status_code == 200
    assert emulator.backend.requests()[7].fault == "rate_limit"


def test_unauthenticated_requests_do_not_drain_the_account_bucket(emulator: EmulatorServer) -> None:
    emulator.faults.set_rate_limit(1)

    anonymous = [api(emulator, "GET", "/api/v4/account", token=None).status_code for _ in range(3)]

    assert anonymous == [401, 401, 401]
    assert api(emulator, "GET", "/api/v4/account").status_code == 200


def test_injected_faults_apply_to_rest_routes(emulator: EmulatorServer) -> None:
    emulator.faults.script(["500", "503", "429", "garbage", "ok"])

    responses = [api(emulator, "GET", "/api/v4/account") for _ in range(5)]

    problem(responses[0], 500)
    problem(responses[1], 503)
    problem(responses[2], 429)
    assert (responses[3].status_code, responses[3].headers["Content-Type"]) == (200, "text/html")
    assert hal(responses[4])["subdomain"] == "acme"


def test_reset_fault_drops_a_rest_request_without_an_answer(emulator: EmulatorServer) -> None:
    emulator.faults.script(["reset"])

    with pytest.raises(requests.ConnectionError):
        api(emulator, "POST", "/api/v4/sources", [{"name": "n", "external_id": "x"}])

    (logged,) = emulator.backend.requests()
    assert (logged.status, logged.fault) == (0, "reset")
    assert emulator.rest.sources() == []


def test_delay_fault_slows_a_rest_answer(emulator: EmulatorServer) -> None:
    emulator.faults.delay_seconds = 0.5
    emulator.faults.script(["delay"])

    with pytest.raises(requests.ReadTimeout):
        requests.get(
            emulator.url + "/api/v4/account",
            headers={"Authorization": f"Bearer {ACME_TOKEN}"},
            timeout=(5, 0.1),
        )
    (logged,) = wait_for_requests(emulator, 1)  # answered after the client gave up: logged now
    assert (logged.status, logged.fault) == (200, "delay")


def test_a_500_after_the_commit_answers_500_and_the_source_exists(emulator: EmulatorServer) -> None:
    emulator.faults.script(["500-after"])

    response = api(emulator, "POST", "/api/v4/sources", [{"name": "n", "external_id": "lost"}])

    assert "after the change" in problem(response, 500)["detail"]
    assert [s.external_id for s in emulator.rest.sources("acme")] == ["lost"]
    (logged,) = emulator.backend.requests()
    assert (logged.status, logged.fault) == (500, "500-after")
    found = hal(api(emulator, "GET", "/api/v4/sources", params={"filter[external_id]": "lost"}))
    assert len(found["_embedded"]["sources"]) == 1


def test_a_reset_after_the_commit_drops_the_answer_and_the_template_exists(emulator: EmulatorServer) -> None:
    emulator.faults.script(["reset-after"])

    with pytest.raises(requests.ConnectionError):
        api(emulator, "POST", TEMPLATES, [{"name": "n", "content": "c", "external_id": "lost"}])

    assert [t.external_id for t in emulator.rest.objects("chat_templates", "acme")] == ["lost"]
    (logged,) = emulator.backend.requests()
    assert (logged.status, logged.fault) == (0, "reset-after")


def test_a_delay_after_the_commit_times_the_client_out_and_the_webhook_exists(
    emulator: EmulatorServer,
) -> None:
    emulator.faults.delay_seconds = 0.5
    emulator.faults.script(["delay-after"])
    body = {"destination": HOOK, "settings": ["add_lead"]}

    with pytest.raises(requests.ReadTimeout):
        requests.post(
            emulator.url + "/api/v4/webhooks",
            json=body,
            headers={"Authorization": f"Bearer {ACME_TOKEN}"},
            timeout=(5, 0.1),
        )

    assert [w.destination for w in emulator.rest.webhooks("acme")] == [HOOK]
    (logged,) = wait_for_requests(emulator, 1)
    assert (logged.status, logged.fault) == (200, "delay-after")


def test_a_method_a_route_lacks_is_405_problem_json(emulator: EmulatorServer) -> None:
    response = api(emulator, "PUT", "/api/v4/sources", [])

    problem(response, 405)
    assert response.headers["Allow"] == "DELETE, GET, PATCH, POST"


def test_rest_requests_are_logged_without_the_token(emulator: EmulatorServer) -> None:
    api(emulator, "GET", "/api/v4/account", params={"with": "amojo_id"})
    api(emulator, "POST", "/api/v4/sources", [{"name": "n", "external_id": "x"}])
    api(emulator, "GET", "/api/v4/sources", token="not-a-token")

    log = emulator.backend.requests()
    state = requests.get(emulator.url + "/_emulator/state", timeout=5).text

    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", "/api/v4/account?with=amojo_id", 200),
        ("POST", "/api/v4/sources", 200),
        ("GET", "/api/v4/sources", 401),
    ]
    assert all(r.headers["Authorization"] == "[redacted]" for r in log)
    for token in (*ALL_TOKENS, "not-a-token"):
        assert token not in state
        assert all(token not in repr(r) for r in log)
