"""No secret in the repository: every file git tracks (or is about to track) is
scanned for private keys, cloud and service tokens, credentials in URLs, passwords and keys
assigned in code or config, and credential files such as `.env`. A finding names the file
and the line.

The one key the repository may hold is the demo mode's key for hashing e-mail addresses:
it is public by design (the demo's data is synthetic), says so in its value, and is used only
in `mode: demo`; production refuses to run without a key of its own (`LTV_PII_KEY`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ltv_pipeline.core.settings import DEMO_PII_KEY, Settings, SettingsError

REPO = Path(__file__).resolve().parents[2]
MAX_BYTES = 2_000_000

# Patterns of secrets that have a recognisable shape, whatever the file.
TOKENS: dict[str, re.Pattern[str]] = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"(?i)aws_?secret_?access_?key\s*[:=]\s*['\"]?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
    "GitLab token": re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Stripe or OpenAI-style secret key": re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{20,}\b|\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}\b"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "credentials in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:([^/\s:@'\"]+)@[^\s'\"]"),
}

_SECRET_NAME = (r"(?:[A-Za-z0-9]+[_-])*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|"
                r"secret[_-]?key|private[_-]?key|pii[_-]?key|client[_-]?secret|auth[_-]?key|credentials?)")
# A quoted literal assigned to a secret-sounding name: `password = "..."`, `"api_key": "..."`,
# `--token '...'`. Names built from other names (`pii_key=email_key`) are code, not secrets.
QUOTED_ASSIGNMENT = re.compile(
    rf"(?i)(?<![A-Za-z0-9])['\"]?{_SECRET_NAME}['\"]?\s*(?:[:=]|\s)\s*(['\"])(?P<value>[^'\"\n]{{4,}})\1"
)
# In configuration files the value need not be quoted: `password: hunter22`.
CONFIG_ASSIGNMENT = re.compile(rf"(?im)^\s*(?:export\s+)?{_SECRET_NAME}\s*[:=]\s*(?P<value>[^\s#'\"][^\s#]{{3,}})")
CONFIG_SUFFIXES = {".yml", ".yaml", ".toml", ".ini", ".cfg", ".conf", ".env", ".properties", ".json"}

PLACEHOLDER = re.compile(
    r"(?i)^(?:\.\.\.|x+|\*+|<[^>]*>|\$\{?[A-Z0-9_]+\}?|\{\{.*\}\}|%\(.*\)s|none|null|true|false|"
    r"(?:your|my|some|the)[-_ ].*|example.*|dummy.*|placeholder.*|changeme|redacted|secret|password|token)$"
    r"|env_var\(|os\.environ|getenv"
)
PUBLIC_MARKER = re.compile(r"(?i)not[-_ ]?(?:a[-_ ])?secret|public[-_ ]demo")
"""A value that says it is not a secret (the demo key) is allowed; nothing else is."""

CREDENTIAL_FILES = re.compile(
    r"(?:^|/)(?:\.env(?:\.(?!example$|sample$|template$|dist$)[^/]+)?|id_(?:rsa|dsa|ecdsa|ed25519)|\.netrc|\.pgpass|"
    r"\.pypirc|\.npmrc|credentials(?:\.json)?|[^/]+\.(?:pem|key|p12|pfx|jks|keystore|kdbx|ovpn))$"
)


def scan_text(text: str, *, config: bool) -> list[tuple[int, str]]:
    """(line number, what) for every secret-looking thing in `text`."""
    findings = []
    for number, line in enumerate(text.splitlines(), start=1):
        for what, pattern in TOKENS.items():
            match = pattern.search(line)
            if match and not (what == "credentials in a URL" and PLACEHOLDER.search(match.group(1))):
                findings.append((number, what))
        assignments = [*QUOTED_ASSIGNMENT.finditer(line), *(CONFIG_ASSIGNMENT.finditer(line) if config else ())]
        for match in assignments:
            value = match.group("value").strip()
            if not (PLACEHOLDER.search(value) or PUBLIC_MARKER.search(value)):
                findings.append((number, "a password, token or key assigned a literal value"))
                break
    return findings


def repository_files() -> list[Path]:
    """What git tracks, and new files it would add (not ignored): a clean clone's content."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the secret scan reads `git ls-files`")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode("utf-8", "surrogateescape")
    return [REPO / name for name in sorted(set(listed.split("\0"))) if name and (REPO / name).is_file()]


def test_no_secret_in_the_repository():
    files = repository_files()
    assert len(files) > 50, "git ls-files listed too few files: is this the repository?"
    findings = []
    for path in files:
        relative = path.relative_to(REPO).as_posix()
        if CREDENTIAL_FILES.search(relative):
            findings.append(f"{relative}: a credential file is committed (keep it out of git: .gitignore)")
            continue
        data = path.read_bytes()[:MAX_BYTES]
        if b"\0" in data[:8192]:
            continue  # binary
        text = data.decode("utf-8", errors="replace")
        is_config = path.suffix.lower() in CONFIG_SUFFIXES or path.name.startswith(".env")
        findings += [f"{relative}:{line}: {what}" for line, what in scan_text(text, config=is_config)]
    assert not findings, "secret-looking content in the repository:\n" + "\n".join(findings)


@pytest.mark.parametrize(
    ("text", "config"),
    [
        ("-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEow...", False),
        ("-----BEGIN OPENSSH " + "PRIVATE KEY-----", False),
        ("aws_access_key_id = " + "AKIA" + "IOSFODNN7EXAMPLF", False),
        ("AWS_SECRET_ACCESS_KEY=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY", True),
        ("token = 'ghp_" + "a" * 36 + "'", False),
        ("url: postgres://ltv:" + "s3cr3tPass" + "@db.internal:5432/ltv", True),
        ('PASSWORD = "' + "hunter2hunter2" + '"', False),
        ('{"api_key": "' + "d41d8cd98f00b204e980" + '"}', True),
        ("pii_key: " + "0f8c1a2b3c4d5e6f", True),
        ("export LTV_PII_KEY=" + "k3y-from-a-shell-history", True),
        ("--client-secret '" + "abcDEF123456" + "'", False),
    ],
)
def test_the_scan_catches_secrets(text, config):
    assert scan_text(text, config=config), text


@pytest.mark.parametrize(
    ("text", "config"),
    [
        ('DEMO_PII_KEY = "ltv-demo-key-not-secret"', False),  # the public demo key, marked as such
        ("pii_key=email_key, date_format=date_format", False),  # code, not a literal
        ("export LTV_PII_KEY=...     # secret for hashing e-mail addresses", True),
        ("password: \"{{ env_var('LTV_SPARK_PASSWORD') }}\"", True),
        ("pii_key: ${LTV_PII_KEY}", True),
        ('raise SettingsError("pii_key is not set: set LTV_PII_KEY")', False),
        ("url: postgres://user:<password>@localhost/db", True),
        ("tokens = text.split()", False),
    ],
)
def test_the_scan_lets_placeholders_and_code_through(text, config):
    assert scan_text(text, config=config) == [], text


def test_the_demo_key_is_public_and_only_for_demo_mode():
    assert "demo" in DEMO_PII_KEY and PUBLIC_MARKER.search(DEMO_PII_KEY), "the demo key must say it is public"
    assert Settings(mode="demo").effective_pii_key() == DEMO_PII_KEY
    with pytest.raises(SettingsError, match="pii_key is not set"):
        Settings(mode="production").effective_pii_key()
    assert Settings(mode="production", pii_key="example-key-of-production").effective_pii_key() == "example-key-of-production"
