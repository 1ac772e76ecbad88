"""The REST emulator's control side: admin drift routes, the Python API, the demo account, ids."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from constants import ACCOUNT_ID, OTHER_ACCOUNT_ID
from rest_helpers import (
    ACME_B_TOKEN,
    ACME_ID,
    ACME_TOKEN,
    ALL_TOKENS,
    FAR_FUTURE,
    GLOBEX_TOKEN,
    INTEGRATION_A,
    INTEGRATION_B,
    api,
    create_source,
    hal,
    no_content,
    problem,
    rest_server,
)

from kommo_provider.emulator import (
    DEMO_ACCESS_TOKEN,
    DEMO_ACCOUNT,
    DEMO_ACCOUNT_IDS,
    DEMO_ACCOUNT_SUBDOMAIN,
    DEMO_INTEGRATION_ID,
    DEMO_REST_ACCOUNT_ID,
    AccountSpec,
    EmulatorServer,
    RestBackend,
    UnknownObjectError,
    mint_token,
    token_claims,
    token_expiry,
)
from kommo_provider.emulator.rest.models import SourceInput

HOOK = "https://hooks.example.com/kommo"


@pytest.fixture(scope="module")
def rest_emulator_server() -> Iterator[EmulatorServer]:
    server = rest_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def emulator(rest_emulator_server: EmulatorServer) -> EmulatorServer:
    rest_emulator_server.reset()
    return rest_emulator_server


def admin(emulator: EmulatorServer, method: str, route: str, payload: Any = None) -> requests.Response:
    data = None if payload is None else json.dumps(payload)
    return requests.request(method, f"{emulator.url}/_emulator/{route}", data=data, timeout=5)


def admin_error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error_code"] == status
    description: str = body["error_description"]
    return description


# Drift: what a user changes in Kommo's UI --------------------------------------------------------


def test_admin_renames_and_moves_a_source_out_of_band(emulator: EmulatorServer) -> None:
    source_id = create_source(emulator)["id"]
    support = emulator.rest.account("acme").pipelines[1].id

    changed = admin(
        emulator, "PATCH", f"sources/{source_id}", {"name": "Renamed in UI", "pipeline_id": support}
    )

    assert changed.status_code == 200
    assert changed.json()["source"]["name"] == "Renamed in UI"
    seen = hal(api(emulator, "GET", f"/api/v4/sources/{source_id}"))
    assert (seen["name"], seen["pipeline_id"]) == ("Renamed in UI", support)


def test_admin_cannot_move_a_source_to_another_accounts_pipeline(emulator: EmulatorServer) -> None:
    source_id = create_source(emulator)["id"]
    foreign = emulator.rest.account("globex").pipelines[0].id

    refused = admin(emulator, "PATCH", f"sources/{source_id}", {"pipeline_id": foreign})
    unknown = admin(emulator, "PATCH", f"sources/{source_id + 1000}", {"name": "x"})
    empty = admin(emulator, "PATCH", f"sources/{source_id}", {"name": ""})

    assert str(foreign) in admin_error(refused, 400)
    admin_error(unknown, 404)
    assert "name" in admin_error(empty, 400)


def test_admin_deletes_a_source_and_its_integration_then_gets_204(emulator: EmulatorServer) -> None:
    source_id = create_source(emulator)["id"]

    removed = admin(emulator, "DELETE", f"sources/{source_id}")

    assert removed.json()["source"]["id"] == source_id
    no_content(api(emulator, "GET", f"/api/v4/sources/{source_id}"))
    no_content(api(emulator, "GET", "/api/v4/sources"))
    admin_error(admin(emulator, "DELETE", f"sources/{source_id}"), 404)


def test_admin_disables_and_deletes_a_webhook(emulator: EmulatorServer) -> None:
    webhook_id = hal(
        api(emulator, "POST", "/api/v4/webhooks", {"destination": HOOK, "settings": ["add_lead"]})
    )["id"]

    disabled = admin(emulator, "PATCH", f"webhooks/{webhook_id}", {"disabled": True})
    (listed,) = hal(api(emulator, "GET", "/api/v4/webhooks"))["_embedded"]["webhooks"]
    removed = admin(emulator, "DELETE", f"webhooks/{webhook_id}")

    assert disabled.json()["webhook"]["disabled"] is True
    assert listed["disabled"] is True
    assert removed.status_code == 200
    no_content(api(emulator, "GET", "/api/v4/webhooks"))
    assert "settings" in admin_error(admin(emulator, "PATCH", "webhooks/1", {"settings": ["boom"]}), 400)
    admin_error(admin(emulator, "PATCH", "webhooks/1", {"disabled": True}), 404)


def test_the_generic_drift_route_changes_and_deletes_any_collection(emulator: EmulatorServer) -> None:
    source_id = create_source(emulator)["id"]
    webhook_id = hal(
        api(emulator, "POST", "/api/v4/webhooks", {"destination": HOOK, "settings": ["add_lead"]})
    )["id"]

    renamed = admin(emulator, "PATCH", f"objects/sources/{source_id}", {"name": "Renamed in UI"})
    disabled = admin(emulator, "PATCH", f"objects/webhooks/{webhook_id}", {"disabled": True, "sort": 9})
    removed = admin(emulator, "DELETE", f"objects/sources/{source_id}")

    assert renamed.json()["source"]["name"] == "Renamed in UI"
    assert (disabled.json()["webhook"]["disabled"], disabled.json()["webhook"]["sort"]) == (True, 9)
    assert removed.json()["source"]["id"] == source_id
    no_content(api(emulator, "GET", f"/api/v4/sources/{source_id}"))
    (hook,) = hal(api(emulator, "GET", "/api/v4/webhooks"))["_embedded"]["webhooks"]
    assert (hook["id"], hook["disabled"]) == (webhook_id, True)


def test_the_generic_drift_route_refuses_unknown_collections_keys_and_ids(emulator: EmulatorServer) -> None:
    source_id = create_source(emulator)["id"]

    collection = admin(emulator, "PATCH", f"objects/leads/{source_id}", {"name": "x"})
    key = admin(emulator, "PATCH", f"objects/sources/{source_id}", {"external_id": "moved"})
    missing = admin(emulator, "DELETE", f"objects/webhooks/{source_id}")

    assert "sources" in admin_error(collection, 404)
    assert "external_id" in admin_error(key, 400)
    admin_error(missing, 404)
    assert emulator.rest.sources("acme")[0].external_id == "site"


def test_admin_sets_a_templates_review_status_as_metas_verdict_would(emulator: EmulatorServer) -> None:
    body = {"name": "Shipped", "content": "On its way", "type": "waba", "external_id": "shipped"}
    (template,) = hal(api(emulator, "POST", "/api/v4/chats/templates", [body]))["_embedded"]["chat_templates"]
    route = f"objects/chat_templates/{template['id']}"

    no_reason = admin(emulator, "PATCH", route, {"review_status": "rejected"})
    rejected = admin(emulator, "PATCH", route, {"review_status": "rejected", "reject_reason": "Too vague"})
    seen = hal(api(emulator, "GET", f"/api/v4/chats/templates/{template['id']}", params={"with": "reviews"}))
    approved = admin(emulator, "PATCH", route, {"review_status": "approved", "name": "Renamed in UI"})

    assert "reject_reason" in admin_error(no_reason, 400)
    (review,) = rejected.json()["chat_template"]["_embedded"]["reviews"]
    assert (review["status"], review["reject_reason"]) == ("rejected", "Too vague")
    assert seen["_embedded"]["reviews"][0]["status"] == "rejected" and seen["is_editable"] is False
    assert approved.json()["chat_template"]["name"] == "Renamed in UI"
    assert emulator.rest.objects("chat_templates", "acme")[0].review_status == "approved"
    assert "review_status" in admin_error(admin(emulator, "PATCH", route, {"review_status": "lost"}), 400)


def test_admin_renames_and_deletes_a_template_out_of_band(emulator: EmulatorServer) -> None:
    body = {"name": "Greeting", "content": "Hello"}
    (template,) = hal(api(emulator, "POST", "/api/v4/chats/templates", [body]))["_embedded"]["chat_templates"]
    path = f"/api/v4/chats/templates/{template['id']}"

    reviewed = admin(
        emulator, "PATCH", f"objects/chat_templates/{template['id']}", {"review_status": "approved"}
    )
    emulator.rest.change_object("chat_templates", template["id"], {"content": "Changed in UI"})
    route = f"objects/chat_templates/{template['id']}"
    bad_button = admin(emulator, "PATCH", route, {"buttons": [{"type": "url", "text": "Go"}]})
    admin(emulator, "PATCH", route, {"buttons": [{"type": "inline", "text": "Yes"}]})
    changed = hal(api(emulator, "GET", path))
    removed = admin(emulator, "DELETE", f"objects/chat_templates/{template['id']}")

    assert "only waba templates" in admin_error(reviewed, 400)
    assert "buttons.0.url" in admin_error(bad_button, 400)
    assert changed["content"] == "Changed in UI"
    assert changed["buttons"] == [{"type": "inline", "text": "Yes"}]
    assert removed.json()["chat_template"]["id"] == template["id"]
    no_content(api(emulator, "GET", path))
    no_content(api(emulator, "GET", "/api/v4/chats/templates"))


def test_a_list_filters_on_declared_fields_only(emulator: EmulatorServer) -> None:
    create_source(emulator, external_id="one", name="First")
    create_source(emulator, external_id="two", name="Second")

    by_name = hal(api(emulator, "GET", "/api/v4/sources", params={"filter[name]": "First"}))
    both = hal(
        api(emulator, "GET", "/api/v4/sources", params={"filter[external_id]": "two", "filter[x]": "y"})
    )

    assert len(by_name["_embedded"]["sources"]) == 2  # name is no filter of Kommo's: ignored
    assert [s["name"] for s in both["_embedded"]["sources"]] == ["Second"]


def test_objects_are_kept_per_account_and_owner() -> None:
    backend = RestBackend([AccountSpec("acme", token=ACME_TOKEN), AccountSpec("globex", token=GLOBEX_TOKEN)])
    acme, globex = backend.authenticate(ACME_TOKEN), backend.authenticate(GLOBEX_TOKEN)
    item = SourceInput("0", "0.", {"name": "n", "external_id": "same"})
    (mine,) = backend.create_objects("sources", acme, [item])
    (theirs,) = backend.create_objects("sources", globex, [item])
    backend.subscribe_webhook(globex, HOOK, ["add_lead"], None)

    backend.delete_objects("sources", acme, [mine.id])

    assert backend.get_object("sources", acme, mine.id) is None  # its owner gets 204
    assert [s.id for s in backend.objects("sources")] == [theirs.id]
    assert backend.objects("webhooks", "acme") == [] and len(backend.objects("webhooks", "globex")) == 1
    with pytest.raises(UnknownObjectError, match="collections: sources, webhooks, chat_templates"):
        backend.objects("leads")


# Accounts and tokens through the admin routes -----------------------------------------------------


def test_admin_adds_an_account_whose_token_then_works_and_is_never_echoed() -> None:
    with EmulatorServer() as server:
        token = mint_token(
            account_id=50_000_001,
            integration_id=INTEGRATION_B,
            user_id=1,
            issued_at=0,
            expires_at=FAR_FUTURE,
            token_id="t",
        )
        payload = {
            "subdomain": "initech",
            "name": "Initech",
            "amojo_id": ACCOUNT_ID.upper(),
            "id": 50_000_001,
            "pipelines": ["Inbound", "Renewals"],
            "token": token,
            "integration_id": INTEGRATION_B,
        }
        added = admin(server, "POST", "accounts", payload)
        account = hal(api(server, "GET", "/api/v4/account", token=token, params={"with": "amojo_id"}))
        state = admin(server, "GET", "state")

    assert added.status_code == 200
    entry = added.json()["account"]
    assert (entry["id"], entry["subdomain"], entry["amojo_id"]) == (50_000_001, "initech", ACCOUNT_ID)
    assert [p["name"] for p in entry["pipelines"]] == ["Inbound", "Renewals"]
    assert entry["integrations"] == [INTEGRATION_B]
    assert (account["subdomain"], account["amojo_id"]) == ("initech", ACCOUNT_ID)
    assert token not in added.text + state.text
    assert [a["subdomain"] for a in state.json()["accounts"]] == ["initech"]


def test_a_thousand_accounts_each_opened_by_its_own_token() -> None:
    count = 1_000
    tokens = {
        f"fleet{n}": mint_token(
            account_id=60_000_000 + n,
            integration_id=INTEGRATION_A,
            user_id=n,
            issued_at=0,
            expires_at=FAR_FUTURE,
            token_id=f"fleet{n}",
        )
        for n in range(count)
    }
    with EmulatorServer() as server, requests.Session() as session:
        for subdomain, token in tokens.items():
            payload = {"subdomain": subdomain, "token": token, "integration_id": INTEGRATION_A}
            added = session.post(f"{server.url}/_emulator/accounts", json=payload, timeout=5)
            assert added.status_code == 200, added.text
        opened = {
            subdomain: server.rest.get_account(server.rest.authenticate(token)).subdomain
            for subdomain, token in tokens.items()
        }
        last = tokens[f"fleet{count - 1}"]
        create_source(server, token=last)
        seen_by_last = hal(api(server, "GET", "/api/v4/account", token=last, params={"with": "amojo_id"}))
        seen_by_first = api(server, "GET", "/api/v4/sources", token=tokens["fleet0"])
        vendor = admin(server, "GET", f"vendor-tokens/fleet{count // 2}.kommo.com").json()

    assert opened == {subdomain: subdomain for subdomain in tokens}
    assert len({server.rest.account(s).amojo_id for s in tokens}) == count
    assert seen_by_last["subdomain"] == f"fleet{count - 1}"
    no_content(seen_by_first)
    assert [s.external_id for s in server.rest.sources(f"fleet{count - 1}")] == ["site"]
    assert vendor["accessToken"] == tokens[f"fleet{count // 2}"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "no subdomain"}, "subdomain"),
        ({"subdomain": "x", "token": "not-a-jwt"}, "JWT"),
        ({"subdomain": "x", "token": 12345}, "token"),
        ({"subdomain": "x", "amojo_id": "not-a-uuid"}, "amojo_id"),
        ({"subdomain": "x", "pipelines": []}, "pipeline"),
        ({"subdomain": "x", "pipelines": [""]}, "pipelines"),
        ({"subdomain": "x", "amojo_id": OTHER_ACCOUNT_ID}, "already belongs"),
    ],
    ids=["no-subdomain", "token-not-jwt", "token-number", "amojo-id", "no-pipelines", "empty-name", "taken"],
)
def test_admin_refuses_a_bad_account_without_quoting_a_token(
    emulator: EmulatorServer, payload: dict[str, Any], field: str
) -> None:
    response = admin(emulator, "POST", "accounts", payload)

    assert field in admin_error(response, 400)
    assert "not-a-jwt" not in response.text and "12345" not in response.text
    assert "x" not in [a.subdomain for a in emulator.rest.accounts()]


def test_admin_adds_a_token_for_another_integration(emulator: EmulatorServer) -> None:
    fresh = mint_token(
        account_id=ACME_ID,
        integration_id=INTEGRATION_B,
        user_id=1,
        issued_at=0,
        expires_at=FAR_FUTURE,
        token_id="z",
    )

    added = admin(
        emulator, "POST", "tokens", {"subdomain": "acme", "token": fresh, "integration_id": INTEGRATION_B}
    )
    unknown = admin(emulator, "POST", "tokens", {"subdomain": "nobody", "token": fresh})
    create_source(emulator, token=fresh)

    assert added.json() == {"subdomain": "acme", "integration_id": INTEGRATION_B, "expires_at": FAR_FUTURE}
    assert fresh not in added.text + unknown.text
    assert "nobody" in admin_error(unknown, 404)
    # The same integration through its other token sees the source; integration A does not.
    assert len(hal(api(emulator, "GET", "/api/v4/sources", token=ACME_B_TOKEN))["_embedded"]["sources"]) == 1
    no_content(api(emulator, "GET", "/api/v4/sources", token=ACME_TOKEN))


@pytest.fixture
def fresh() -> Iterator[EmulatorServer]:
    """An emulator of its own, for tests that revoke the shared tokens."""
    server = rest_server()
    try:
        yield server
    finally:
        server.stop()


def test_rotating_revokes_older_tokens_of_the_account_and_integration_only(fresh: EmulatorServer) -> None:
    older = fresh.rest.mint_token("acme", integration_id=INTEGRATION_A)

    newest = fresh.rest.rotate_token("acme", integration_id=INTEGRATION_A.upper(), lifetime_seconds=60)

    for revoked in (ACME_TOKEN, older):
        response = api(fresh, "GET", "/api/v4/account", token=revoked)
        assert "revoked" in problem(response, 401)["detail"]
        assert revoked not in response.text
    assert token_claims(newest)["exp"] - token_claims(newest)["iat"] == 60
    assert hal(api(fresh, "GET", "/api/v4/account", token=newest))["subdomain"] == "acme"
    assert hal(api(fresh, "GET", "/api/v4/account", token=ACME_B_TOKEN))["subdomain"] == "acme"
    assert hal(api(fresh, "GET", "/api/v4/account", token=GLOBEX_TOKEN))["subdomain"] == "globex"
    assert sorted(fresh.rest.integrations("acme")) == sorted([INTEGRATION_A, INTEGRATION_B])


def test_a_rotated_token_lives_its_lifetime_in_seconds(fresh: EmulatorServer) -> None:
    token = fresh.rest.rotate_token("globex", integration_id=INTEGRATION_A, lifetime_seconds=5)
    assert api(fresh, "GET", "/api/v4/account", token=token).status_code == 200

    fresh.faults.clock_offset_seconds = 6

    assert "expired" in problem(api(fresh, "GET", "/api/v4/account", token=token), 401)["detail"]


def test_admin_rotates_a_token_and_the_vendor_token_service_hands_out_the_newest(
    fresh: EmulatorServer,
) -> None:
    before = admin(fresh, "GET", "vendor-tokens/acme.kommo.com")
    rotated = admin(
        fresh,
        "POST",
        "tokens/rotate",
        {"subdomain": "acme", "integration_id": INTEGRATION_A, "lifetime_seconds": 120},
    )
    served = admin(fresh, "GET", "vendor-tokens/ACME.kommo.com")
    bare = admin(fresh, "GET", f"vendor-tokens/acme?integration_id={INTEGRATION_B}")

    assert before.json()["accessToken"] == ACME_B_TOKEN  # the newest token of any integration
    answer = rotated.json()
    assert set(answer) == {"subdomain", "integration_id", "expires_at"}
    assert (answer["subdomain"], answer["integration_id"]) == ("acme", INTEGRATION_A)
    token = served.json()["accessToken"]
    assert token not in rotated.text
    assert served.json() == {"accessToken": token, "expiresAt": answer["expires_at"]}
    assert token_claims(token)["exp"] - token_claims(token)["iat"] == 120
    assert hal(api(fresh, "GET", "/api/v4/account", token=token))["subdomain"] == "acme"
    assert bare.json()["accessToken"] == ACME_B_TOKEN
    problem(api(fresh, "GET", "/api/v4/account", token=ACME_TOKEN), 401)


def test_the_vendor_token_service_knows_no_unknown_account_nor_a_dead_token(fresh: EmulatorServer) -> None:
    unknown = admin(fresh, "GET", "vendor-tokens/nobody.kommo.com")
    admin(
        fresh,
        "POST",
        "tokens/rotate",
        {"subdomain": "globex", "integration_id": INTEGRATION_A, "lifetime_seconds": 5},
    )
    fresh.faults.clock_offset_seconds = 10
    expired = admin(fresh, "GET", "vendor-tokens/globex")
    refused = admin(fresh, "POST", "tokens/rotate", {"subdomain": "nobody"})
    bad = admin(fresh, "POST", "tokens/rotate", {"subdomain": "acme", "lifetime_seconds": "a day"})

    assert "nobody" in admin_error(unknown, 404)
    assert "no unrevoked, unexpired token" in admin_error(expired, 404)
    admin_error(refused, 404)
    assert "lifetime_seconds" in admin_error(bad, 400)


def test_state_lists_accounts_sources_and_webhooks_but_no_token(emulator: EmulatorServer) -> None:
    source = create_source(emulator)
    hal(api(emulator, "POST", "/api/v4/webhooks", {"destination": HOOK, "settings": ["add_lead"]}))

    response = admin(emulator, "GET", "state")

    state = response.json()
    acme = next(a for a in state["accounts"] if a["subdomain"] == "acme")
    assert acme["amojo_id"] == ACCOUNT_ID and len(acme["pipelines"]) == 2
    assert sorted(acme["integrations"]) == sorted([INTEGRATION_B, "7d2f4b6a-1c3e-4a5b-9d8f-0e1a2b3c4d5e"])
    (listed,) = state["sources"]
    assert (listed["id"], listed["account_id"]) == (source["id"], acme["id"])
    assert [w["destination"] for w in state["webhooks"]] == [HOOK]
    for token in ALL_TOKENS:
        assert token not in response.text


def test_admin_reset_clears_sources_and_webhooks_but_keeps_accounts_and_tokens(
    emulator: EmulatorServer,
) -> None:
    create_source(emulator)
    hal(api(emulator, "POST", "/api/v4/webhooks", {"destination": HOOK, "settings": ["add_lead"]}))

    assert admin(emulator, "POST", "reset").status_code == 200

    assert emulator.rest.sources() == [] and emulator.rest.webhooks() == []
    no_content(api(emulator, "GET", "/api/v4/sources"))
    assert hal(api(emulator, "GET", "/api/v4/account", token=GLOBEX_TOKEN))["subdomain"] == "globex"


# Python API ---------------------------------------------------------------------------------------


def test_backend_without_http_applies_ownership_and_drift() -> None:
    backend = RestBackend([AccountSpec("acme", token=ACME_TOKEN)])
    grant = backend.authenticate(ACME_TOKEN)
    backend.add_token("acme", ACME_B_TOKEN, integration_id=INTEGRATION_B)
    other = backend.authenticate(ACME_B_TOKEN)

    assert grant.account_id == other.account_id and grant.integration_id != other.integration_id
    assert backend.list_sources(other) == []
    with pytest.raises(UnknownObjectError):
        backend.change_source(1, name="x")
    with pytest.raises(UnknownObjectError):
        backend.account("nobody")


def test_replacing_an_account_drops_its_sources_and_old_tokens() -> None:
    backend = RestBackend([AccountSpec("acme", token=ACME_TOKEN)])
    fresh = backend.mint_token("acme")
    grant = backend.authenticate(fresh)
    backend.create_sources(grant, [SourceInput("0", "0.", {"name": "n", "external_id": "x"})])
    backend.subscribe_webhook(grant, HOOK, ["add_lead"], None)

    backend.add_account(AccountSpec("acme", token=ACME_B_TOKEN))

    assert backend.grant_for(ACME_TOKEN) is None and backend.grant_for(fresh) is None
    assert backend.authenticate(ACME_B_TOKEN).account_id == backend.account("acme").id
    assert backend.sources() == [] and backend.webhooks() == []


def test_account_spec_repr_and_token_errors_never_show_the_token() -> None:
    spec = AccountSpec("acme", token=ACME_TOKEN)
    backend = RestBackend([spec])

    with pytest.raises(ValueError) as excinfo:
        backend.add_token("acme", "secret-but-not-a-jwt")
    with pytest.raises(ValueError, match="another account"):
        RestBackend([spec, AccountSpec("globex", token=ACME_TOKEN)])

    assert ACME_TOKEN not in repr(spec)
    assert "secret-but-not-a-jwt" not in str(excinfo.value)


def test_minted_tokens_are_jwt_shaped_with_an_exp_a_client_can_read() -> None:
    backend = RestBackend([AccountSpec("acme")])

    token = backend.mint_token("acme", integration_id=INTEGRATION_B.upper(), lifetime_seconds=600)

    header, payload, signature = token.split(".")

    def decoded(part: str) -> dict[str, Any]:  # what a client does offline: base64url, then JSON
        result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return result

    assert decoded(header)["typ"] == "JWT"
    claims = decoded(payload)
    assert claims == token_claims(token)
    assert claims["exp"] - claims["iat"] == 600
    assert claims["aud"] == INTEGRATION_B  # the integration id, in canonical (lower) case
    assert claims["account_id"] == backend.account("acme").id
    assert signature and "=" not in token
    assert backend.authenticate(token).integration_id == INTEGRATION_B


def test_integration_ids_compare_case_insensitively(emulator: EmulatorServer) -> None:
    upper = emulator.rest.mint_token("acme", integration_id=INTEGRATION_B.upper())
    create_source(emulator, token=ACME_B_TOKEN)

    assert len(hal(api(emulator, "GET", "/api/v4/sources", token=upper))["_embedded"]["sources"]) == 1
    assert len(emulator.rest.sources("acme", INTEGRATION_B.upper())) == 1


def test_amojo_id_is_stored_in_lower_case_and_unique_in_any_case() -> None:
    backend = RestBackend([AccountSpec("acme", amojo_id=ACCOUNT_ID.upper())])

    assert backend.account("acme").amojo_id == ACCOUNT_ID
    with pytest.raises(ValueError, match="already belongs"):
        backend.add_account(AccountSpec("globex", amojo_id=ACCOUNT_ID))


# The demo account --------------------------------------------------------------------------------


def test_demo_token_is_public_jwt_far_in_the_future() -> None:
    claims = token_claims(DEMO_ACCESS_TOKEN)

    assert token_expiry(DEMO_ACCESS_TOKEN) >= FAR_FUTURE
    assert (claims["account_id"], claims["aud"]) == (DEMO_REST_ACCOUNT_ID, DEMO_INTEGRATION_ID)
    assert DEMO_ACCESS_TOKEN not in repr(DEMO_ACCOUNT)


def test_demo_account_serves_its_amojo_id_and_two_pipelines() -> None:
    with EmulatorServer(accounts=[DEMO_ACCOUNT]) as server:
        account = hal(
            api(server, "GET", "/api/v4/account", token=DEMO_ACCESS_TOKEN, params={"with": "amojo_id"})
        )
        pipelines = hal(api(server, "GET", "/api/v4/leads/pipelines", token=DEMO_ACCESS_TOKEN))
        refused = api(server, "GET", "/api/v4/account", token=ACME_TOKEN)

    assert (account["subdomain"], account["id"]) == (DEMO_ACCOUNT_SUBDOMAIN, DEMO_REST_ACCOUNT_ID)
    assert account["amojo_id"] == DEMO_ACCOUNT_IDS[0]
    assert [p["is_main"] for p in pipelines["_embedded"]["pipelines"]] == [True, False]
    problem(refused, 401)
