"""`/user/login` against guessing: throttling, constant-time answers, scrypt upgrades, and
the admin bootstrap token's length."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from labelops_common.settings import CommonSettings
from project_svc.accounts.models import LoginAttempts
from project_svc.app import build_service
from project_svc.settings import AdminBootstrapSettings, Settings
from project_svc.users import passwords
from project_svc.users import service as users_service
from project_svc.users.models import User
from pydantic import SecretStr, ValidationError
from sqlalchemy import select

PASSWORD = "correct-horse-9"


@pytest.fixture()
def limits(runtime) -> Iterator[Settings]:
    """Small limits for one test: 3 failures per account, 5 per address, in one minute."""
    settings: Settings = runtime.http_app.state.settings
    runtime.http_app.state.settings = settings.model_copy(
        update={
            "login_failures_per_account": 3,
            "login_failures_per_address": 5,
            "login_failure_window_seconds": 60,
        }
    )
    try:
        yield runtime.http_app.state.settings
    finally:
        runtime.http_app.state.settings = settings


def _from(runtime, address: str) -> TestClient:
    return TestClient(runtime.http_app, raise_server_exceptions=False, client=(address, 50000))


def _email(session, actor) -> str:
    return session.get(User, actor.principal.user_id).email


def _login(browser: TestClient, email: str, password: str):
    return browser.post("/user/login", json={"email": email, "password": password})


class TestThrottling:
    def test_an_account_is_refused_after_its_limit_from_any_address(
        self, runtime, cast, session, limits
    ) -> None:
        email = _email(session, cast.owner)
        for number in range(3):
            with _from(runtime, f"10.0.0.{number + 1}") as browser:
                assert _login(browser, email, "wrong-password").status_code == 401
        with _from(runtime, "10.0.0.9") as browser:
            refused = _login(browser, email, "wrong-password")
            assert refused.status_code == 429
            assert 0 < int(refused.headers["Retry-After"]) <= 60
            body = refused.json()
            assert body["status_code"] == 429 and "throttled" in body["detail"]
            # Even the right password waits: the account is locked for the window.
            assert _login(browser, email, PASSWORD).status_code == 429
            assert "set-cookie" not in refused.headers
        # Another account is not affected.
        with _from(runtime, "10.0.0.10") as browser:
            assert _login(browser, _email(session, cast.annotator), PASSWORD).status_code == 200

    def test_an_address_is_refused_after_its_limit_over_accounts(
        self, runtime, cast, session, limits
    ) -> None:
        with _from(runtime, "10.0.1.1") as browser:
            for number in range(5):
                response = _login(browser, f"nobody{number}@example.com", "wrong-password")
                assert response.status_code == 401
            refused = _login(browser, _email(session, cast.owner), PASSWORD)
            assert refused.status_code == 429
            assert int(refused.headers["Retry-After"]) > 0
        with _from(runtime, "10.0.1.2") as browser:
            assert _login(browser, _email(session, cast.owner), PASSWORD).status_code == 200

    def test_a_success_resets_the_account(self, runtime, cast, session, limits) -> None:
        email = _email(session, cast.owner)
        with _from(runtime, "10.0.2.1") as browser:
            for _ in range(2):
                assert _login(browser, email, "wrong-password").status_code == 401
            assert _login(browser, email, PASSWORD).status_code == 200
            assert session.get(LoginAttempts, f"account:{email}") is None
            for _ in range(3):
                assert _login(browser, email, "wrong-password").status_code == 401
            assert _login(browser, email, "wrong-password").status_code == 429

    def test_counts_are_in_the_database(self, runtime, cast, session, limits) -> None:
        email = _email(session, cast.owner)
        with _from(runtime, "10.0.3.1") as browser:
            assert _login(browser, email.upper(), "wrong-password").status_code == 401
        session.expire_all()
        rows = {row.key: row.attempts for row in session.scalars(select(LoginAttempts))}
        assert rows == {f"account:{email}": 1, "address:10.0.3.1": 1}

    def test_defaults(self) -> None:
        settings = Settings()
        assert settings.login_failures_per_account == 5
        assert settings.login_failures_per_address == 30
        assert settings.login_failure_window_seconds == 900


class TestConstantTimeAnswers:
    def test_an_unknown_email_pays_for_a_password_check(
        self, client, cast, session, monkeypatch
    ) -> None:
        checked: list[str] = []
        real = passwords.verify_password

        def spy(password: str, encoded: str) -> bool:
            checked.append(password)
            return real(password, encoded)

        monkeypatch.setattr(passwords, "verify_password", spy)
        monkeypatch.setattr(users_service, "verify_password", spy)
        unknown = _login(client, "nobody@example.com", "guess-1234")
        known = _login(client, _email(session, cast.owner), "guess-1234")
        assert checked == ["guess-1234", "guess-1234"]
        assert unknown.status_code == known.status_code == 401
        assert unknown.json()["detail"] == known.json()["detail"]

    def test_unknown_and_known_emails_take_alike(self, client, cast, session) -> None:
        email = _email(session, cast.owner)

        def median(address: str) -> float:
            timings = []
            for _ in range(10):
                started = time.perf_counter()
                users_service.authenticate_password(session, email=address, password="guess-1234")
                timings.append(time.perf_counter() - started)
            return statistics.median(timings)

        assert median("nobody@example.com") / median(email) > 0.5


class TestScrypt:
    def test_new_hashes_follow_current_guidance_by_default(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The test command lowers the cost for its own users (scripts/testinfra.sh).
        monkeypatch.delenv("LABELOPS_PROJECT_SVC_PASSWORD_SCRYPT_N", raising=False)
        assert Settings().password_scrypt_n == 2**17
        assert passwords.ScryptCost(n=2**17, r=8, p=1) == passwords.RECOMMENDED_COST
        encoded = passwords.hash_password(PASSWORD, cost=passwords.RECOMMENDED_COST)
        assert encoded.startswith("scrypt$131072$8$1$")
        assert passwords.verify_password(PASSWORD, encoded)
        assert not passwords.verify_password("wrong-password", encoded)

    def test_an_old_hash_verifies_and_is_upgraded_at_login(self, client, cast, session) -> None:
        user = session.get(User, cast.owner.principal.user_id)
        old = passwords.hash_password(PASSWORD, cost=passwords.ScryptCost(n=2**10))
        user.password_hash = old
        session.commit()
        assert passwords.verify_password(PASSWORD, old)
        assert passwords.needs_rehash(old)
        assert _login(client, user.email, "wrong-password").status_code == 401
        session.refresh(user)
        assert user.password_hash == old  # a failed attempt rewrites nothing
        assert _login(client, user.email, PASSWORD).status_code == 200
        session.refresh(user)
        assert user.password_hash != old
        current = passwords.current_cost()
        assert user.password_hash.startswith(f"scrypt${current.n}${current.r}${current.p}$")
        assert not passwords.needs_rehash(user.password_hash)
        assert passwords.verify_password(PASSWORD, user.password_hash)

    def test_production_refuses_a_lowered_cost(self, tmp_path) -> None:
        common = CommonSettings(
            data_dir=tmp_path, environment="production", secret_key=SecretStr("k" * 40)
        )
        with pytest.raises(ValueError, match="PASSWORD_SCRYPT_N"):
            build_service(common, Settings(password_scrypt_n=2**14))

    def test_the_cost_is_a_power_of_two(self) -> None:
        with pytest.raises(ValidationError, match="power of two"):
            Settings(password_scrypt_n=100_000)


class TestAdminBootstrapToken:
    def test_a_short_token_is_refused(self, monkeypatch) -> None:
        monkeypatch.setenv("LABELOPS_ADMIN_TOKEN", "abc123")
        with pytest.raises(ValidationError, match="at least 32 characters"):
            AdminBootstrapSettings()

    def test_a_short_token_stops_the_service_before_it_serves(self, monkeypatch, tmp_path) -> None:
        monkeypatch.setenv("LABELOPS_ADMIN_EMAIL", "admin@example.com")
        monkeypatch.setenv("LABELOPS_ADMIN_TOKEN", "x" * 31)
        with pytest.raises(ValidationError, match="LABELOPS_ADMIN_TOKEN"):
            build_service(CommonSettings(data_dir=tmp_path), Settings())

    def test_long_and_empty_tokens_are_accepted(self, monkeypatch) -> None:
        monkeypatch.setenv("LABELOPS_ADMIN_TOKEN", "x" * 32)
        assert AdminBootstrapSettings().token.get_secret_value() == "x" * 32
        monkeypatch.delenv("LABELOPS_ADMIN_TOKEN")
        assert AdminBootstrapSettings().token.get_secret_value() == ""
