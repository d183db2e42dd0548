"""Settings read from the environment once, into a typed object."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Everything the application reads from its environment."""

    database_url: str
    secret_key: str
    timezone: str
    var_dir: Path
    max_upload_bytes: int
    debug: bool
    https: bool
    allowed_hosts: tuple[str, ...]
    clock_interval_seconds: int
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    login_failures_per_account: int = 5
    login_failures_per_address: int = 30
    login_lockout_minutes: int = 15
    upload_quota_files: int = 200
    upload_quota_bytes: int = 500 * 1024 * 1024
    min_free_disk_mb: int = 200
    signups_per_address_hour: int = 5
    # Set: workers share event counts and leases in Redis; unset: in the database.
    redis_url: str | None = None
    # Every key the registry writes to Redis starts with this (several deployments, one Redis).
    redis_prefix: str = "registry:"
    # Set: reminders are also e-mailed (smtp://[user:password@]host[:port]?from=address;
    # smtps:// for TLS from the start, ?starttls=1 to upgrade). Unset: the inbox only.
    smtp_url: str | None = None

    @property
    def engine(self) -> str:
        """'postgres' or 'sqlite', chosen by the database URL's scheme."""
        return (
            "postgres"
            if self.database_url.startswith(("postgres://", "postgresql://"))
            else "sqlite"
        )


def _secret_key(var_dir: Path) -> str:
    """The configured key, or one generated on first run and kept under var/ (never committed)."""
    configured = os.environ.get("REGISTRY_SECRET_KEY")
    if configured:
        return configured
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _int(name: str, default: int, minimum: int = 1) -> int:
    """A whole number from the environment; a typo fails start-up with the variable's name."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {text!r}") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, not {value}")
    return value


def load_settings() -> Settings:
    """Read the environment (no caching: tests call this after changing it)."""
    var_dir = Path(os.environ.get("REGISTRY_VAR_DIR", "var")).resolve()
    default_db = f"sqlite:///{var_dir / 'registry.sqlite'}"
    return Settings(
        database_url=os.environ.get("REGISTRY_DATABASE_URL", default_db),
        secret_key=_secret_key(var_dir),
        timezone=os.environ.get("REGISTRY_TIMEZONE", "Asia/Shanghai"),
        var_dir=var_dir,
        max_upload_bytes=int(os.environ.get("REGISTRY_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024))),
        debug=os.environ.get("REGISTRY_DEBUG", "") == "1",
        https=os.environ.get("REGISTRY_HTTPS", "") == "1",
        clock_interval_seconds=int(os.environ.get("REGISTRY_CLOCK_INTERVAL", "300")),
        session_idle_minutes=_int("REGISTRY_SESSION_IDLE_MINUTES", 30),
        session_max_hours=_int("REGISTRY_SESSION_MAX_HOURS", 12),
        login_failures_per_account=_int("REGISTRY_LOGIN_FAILURES_PER_ACCOUNT", 5),
        login_failures_per_address=_int("REGISTRY_LOGIN_FAILURES_PER_ADDRESS", 30),
        login_lockout_minutes=_int("REGISTRY_LOGIN_LOCKOUT_MINUTES", 15),
        upload_quota_files=_int("REGISTRY_UPLOAD_QUOTA_FILES", 200),
        upload_quota_bytes=_int("REGISTRY_UPLOAD_QUOTA_BYTES", 500 * 1024 * 1024),
        # 0 turns the health check's disk test off (a volume watched by other means).
        min_free_disk_mb=_int("REGISTRY_MIN_FREE_DISK_MB", 200, minimum=0),
        signups_per_address_hour=_int("REGISTRY_SIGNUPS_PER_ADDRESS_HOUR", 5),
        redis_url=os.environ.get("REGISTRY_REDIS_URL", "").strip() or None,
        redis_prefix=os.environ.get("REGISTRY_REDIS_PREFIX", "registry:"),
        smtp_url=os.environ.get("REGISTRY_SMTP_URL", "").strip() or None,
        allowed_hosts=tuple(
            h.strip() for h in os.environ.get("REGISTRY_ALLOWED_HOSTS", "").split(",") if h.strip()
        ),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings."""
    return load_settings()
