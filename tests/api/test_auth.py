"""Who may call the API: bearer tokens, session cookies (with CSRF), nobody else."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from bangfu.organisation.models import ApiToken
from bangfu.organisation.services import create_api_token
from tests.api.conftest import API
from tests.conftest import World, login


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/students"), ("post", "/students"), ("get", "/helper-assignments")],
)
def test_without_credentials_the_api_answers_401_not_a_login_redirect(world: World, method: str, path: str) -> None:
    response = getattr(Client(), method)(f"{API}{path}")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["detail"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_student_page_guessed_without_credentials_is_401_too(world: World) -> None:
    response = Client().get(f"{API}/students/{world.own.public_id}")

    assert response.status_code == 401


def test_a_bearer_token_authenticates_and_records_its_use(world: World) -> None:
    token = create_api_token(user=world.helper, name="手机客户端")

    response = Client().get(f"{API}/students", headers=_bearer(token))

    assert response.status_code == 200
    assert [s["name"] for s in response.json()["items"]] == ["田斌臣"]
    assert ApiToken.objects.get(user=world.helper).last_used_at is not None


def test_token_use_is_recorded_at_most_once_a_minute(world: World) -> None:
    token = create_api_token(user=world.helper)
    earlier = timezone.now() - dt.timedelta(seconds=20)
    ApiToken.objects.filter(user=world.helper).update(last_used_at=earlier)

    Client().get(f"{API}/students", headers=_bearer(token))

    assert ApiToken.objects.get(user=world.helper).last_used_at == earlier


@pytest.mark.parametrize("header", ["Bearer bf_not-a-real-token", "Bearer ", "Token abc", "Basic aGVscGVyOnB3"])
def test_a_wrong_or_malformed_authorization_header_is_401(world: World, header: str) -> None:
    response = Client().get(f"{API}/students", headers={"Authorization": header})

    assert response.status_code == 401


def test_a_revoked_token_is_refused(world: World) -> None:
    token = create_api_token(user=world.helper)
    ApiToken.objects.filter(user=world.helper).update(revoked_at=timezone.now())

    assert Client().get(f"{API}/students", headers=_bearer(token)).status_code == 401


def test_the_token_of_a_deactivated_user_is_refused(world: World) -> None:
    token = create_api_token(user=world.helper)
    world.helper.is_active = False
    world.helper.save(update_fields=["is_active"])

    assert Client().get(f"{API}/students", headers=_bearer(token)).status_code == 401


def test_the_session_cookie_authenticates_reads(world: World) -> None:
    client = login(Client(), world.leader)

    response = client.get(f"{API}/students")

    assert response.status_code == 200
    assert {s["name"] for s in response.json()["items"]} == {"田斌臣", "刘洋"}


def _new_student(world: World) -> dict[str, object]:
    return {
        "class_unit": str(world.class1.public_id),
        "student_number": "2023001001",
        "name": "马晓燕",
        "gender": "F",
        "cohort": 2023,
    }


def test_a_session_write_needs_the_csrf_token(world: World) -> None:
    client = login(Client(enforce_csrf_checks=True), world.leader)

    refused = client.post(f"{API}/students", _new_student(world), content_type="application/json")
    client.get(f"{API}/docs")  # any page that renders the CSRF token sets its cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        f"{API}/students", _new_student(world), content_type="application/json", headers={"X-CSRFToken": token}
    )

    assert refused.status_code == 403
    assert accepted.status_code == 201


def test_a_token_write_needs_no_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    token = create_api_token(user=world.leader)

    response = client.post(
        f"{API}/students", _new_student(world), content_type="application/json", headers=_bearer(token)
    )

    assert response.status_code == 201


def test_create_token_prints_a_token_that_works(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create_token", "counsellor", "--name", "学工系统对接")
    token = capsys.readouterr().out.strip()

    response = Client().get(f"{API}/students", headers=_bearer(token))

    assert token.startswith("bf_")
    assert response.status_code == 200
    assert ApiToken.objects.get(user=world.counsellor).name == "学工系统对接"
    assert ApiToken.objects.get(user=world.counsellor).digest != token  # only a digest is stored


def test_create_token_refuses_an_unknown_user(world: World) -> None:
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_token", "nobody")
    assert not ApiToken.objects.exists()


def test_tokens_lists_a_user_s_tokens_and_revokes_one_by_its_prefix(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    nightly = create_api_token(user=world.counsellor, name="夜间导出")
    portal = create_api_token(user=world.counsellor, name="学工系统对接")
    other = create_api_token(user=world.office, name="就业平台")

    call_command("tokens", "counsellor")
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[:2] for line in listed] == [
        [f"{nightly[:8]}…", "夜间导出"],
        [f"{portal[:8]}…", "学工系统对接"],
    ]
    assert all("made 20" in line and "revoked" not in line for line in listed)

    call_command("tokens", "counsellor", "--revoke", f"{nightly[:8]}…")  # as the list shows it

    assert capsys.readouterr().out == "Revoked 1 token(s) of counsellor.\n"
    assert Client().get(f"{API}/students", headers=_bearer(nightly)).status_code == 401
    assert Client().get(f"{API}/students", headers=_bearer(portal)).status_code == 200
    assert Client().get(f"{API}/students", headers=_bearer(other)).status_code == 200
    call_command("tokens", "counsellor")
    assert "revoked 20" in capsys.readouterr().out.splitlines()[0]


def test_tokens_revokes_every_token_of_a_user_whose_laptop_was_stolen(world: World) -> None:
    tokens = [create_api_token(user=world.counsellor, name=name) for name in ("甲", "乙")]
    kept = create_api_token(user=world.office)

    call_command("tokens", "counsellor", "--revoke-all")

    assert [Client().get(f"{API}/students", headers=_bearer(t)).status_code for t in tokens] == [401, 401]
    assert Client().get(f"{API}/students", headers=_bearer(kept)).status_code == 200
    assert ApiToken.objects.count() == 3  # kept, with the time of revocation


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody"], "There is no user 'nobody'"),
        (["counsellor", "--revoke", "bf_"], "first 4 to 8 characters"),
        (["counsellor", "--revoke", "bf_zzzzz"], "no unrevoked token starting with 'bf_zzzzz'; nothing was revoked"),
        (["counsellor", "--revoke", "bf_abcdefgh"], "first 4 to 8 characters"),
    ],
)
def test_tokens_refuses_what_it_cannot_match_and_revokes_nothing(world: World, args: list[str], message: str) -> None:
    token = create_api_token(user=world.counsellor)

    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("tokens", *args)

    assert Client().get(f"{API}/students", headers=_bearer(token)).status_code == 200


def test_tokens_will_not_guess_between_two_tokens_with_the_same_start(world: World) -> None:
    first, second = create_api_token(user=world.counsellor), create_api_token(user=world.counsellor)
    ApiToken.objects.update(prefix="bf_same1")

    with pytest.raises(CommandError, match="more than one token starting with 'bf_same'"):
        call_command("tokens", "counsellor", "--revoke", "bf_same")

    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 2
    assert {first[:3], second[:3]} == {"bf_"}
