"""Both upstream clients: the per-upstream connection cap and https upstreams verified
against a CA bundle (a self-signed certificate made here), in process on loopback."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.router.app import RouterApp
from services.router.client import UpstreamError, UpstreamFailure
from services.router.config import (
    ConfigError,
    UpstreamClientKind,
    UpstreamClientSettings,
    parse_config,
    parse_yaml,
)
from services.router.pools import build_pool

from .test_upstream import OK, get, read_request

KINDS = [kind.value for kind in UpstreamClientKind]


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "canaria test upstream")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def _serve(
    stats: dict[str, int], *, delay: float = 0.0, tls: ssl.SSLContext | None = None
) -> asyncio.Server:
    """A keep-alive upstream that answers ``OK`` after ``delay`` and counts the
    connections it accepted and the most it had open at once."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats["accepted"] += 1
        stats["open"] += 1
        stats["most_open"] = max(stats["most_open"], stats["open"])
        try:
            while await read_request(reader) is not None:
                await asyncio.sleep(delay)
                writer.write(OK)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            stats["open"] -= 1
            writer.close()

    return await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)


def _stats() -> dict[str, int]:
    return {"accepted": 0, "open": 0, "most_open": 0}


@pytest.mark.parametrize("kind", KINDS)
def test_a_burst_opens_at_most_the_cap(kind: str) -> None:
    stats = _stats()

    async def main() -> list[Any]:
        server = await _serve(stats, delay=0.05)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        settings = UpstreamClientSettings(implementation=kind, max_connections_per_upstream=8)
        pool = build_pool(settings)
        async with server:
            answers = await asyncio.gather(*(get(pool, url, timeout=10) for _ in range(50)))
            await pool.close()
        return answers

    answers = asyncio.run(main())
    assert answers == [(200, b"{}")] * 50
    assert stats["accepted"] <= 8, stats
    assert stats["most_open"] <= 8, stats


@pytest.mark.parametrize("kind", KINDS)
def test_a_request_that_finds_no_free_connection_in_time_fails_as_pool_full(kind: str) -> None:
    stats = _stats()

    async def main() -> list[Any]:
        server = await _serve(stats, delay=0.6)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        settings = UpstreamClientSettings(implementation=kind, max_connections_per_upstream=1)
        pool = build_pool(settings)
        async with server:
            first = asyncio.ensure_future(get(pool, url, timeout=5))
            await asyncio.sleep(0.1)
            second = await asyncio.gather(get(pool, url, timeout=0.2), return_exceptions=True)
            results = [await first, *second]
            await pool.close()
        return results

    first, second = asyncio.run(main())
    assert first == (200, b"{}")
    assert isinstance(second, UpstreamError) and second.reason is UpstreamFailure.POOL_FULL
    assert "max_connections_per_upstream: 1" in str(second)
    assert stats["accepted"] == 1


def _router_answer(kind: str, tmp_path: Path, *, with_bundle: bool) -> httpx.Response:
    """One request through an in-process router to a loopback https upstream."""
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client: dict[str, Any] = {"implementation": kind}
    if with_bundle:
        client["ca_bundle"] = str(cert)

    async def main() -> httpx.Response:
        server = await _serve(_stats(), tls=server_tls)
        port = server.sockets[0].getsockname()[1]
        raw = {"upstreams": {"stable": {"url": f"https://127.0.0.1:{port}"}}}
        app = RouterApp(parse_config({**raw, "upstream_client": client}))
        transport = httpx.ASGITransport(app=app)
        async with server, httpx.AsyncClient(transport=transport, base_url="http://r") as http:
            answer = await http.post("/predict", json={})
            await app.stop()
        return answer

    return asyncio.run(main())


@pytest.mark.parametrize("kind", KINDS)
def test_an_https_upstream_is_verified_with_the_ca_bundle(kind: str, tmp_path: Path) -> None:
    answer = _router_answer(kind, tmp_path, with_bundle=True)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {}


@pytest.mark.parametrize("kind", KINDS)
def test_an_untrusted_https_upstream_gets_502_naming_tls(kind: str, tmp_path: Path) -> None:
    answer = _router_answer(kind, tmp_path, with_bundle=False)
    assert answer.status_code == 502, answer.text
    error = answer.json()["error"]
    assert "failed TLS verification" in error and "certificate verify failed" in error, error


def test_a_missing_or_bad_ca_bundle_is_refused_at_load(tmp_path: Path) -> None:
    text = "upstreams: {stable: {url: 'https://model'}}\nupstream_client: {ca_bundle: '%s'}\n"
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(ConfigError, match=f"upstream_client.ca_bundle: {missing} does not exist"):
        parse_yaml(text % missing)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=f"upstream_client.ca_bundle: {garbage} holds no PEM"):
        parse_yaml(text % garbage)
    cert, _ = self_signed(tmp_path)
    assert parse_yaml(text % cert).upstream_client.ca_bundle == str(cert)


def test_an_unknown_client_is_refused_with_its_name() -> None:
    with pytest.raises(ConfigError, match=r"upstream_client.implementation: .*'custom'.*'aiohttp'"):
        parse_config(
            {
                "upstreams": {"stable": {"url": "http://m"}},
                "upstream_client": {"implementation": "curl"},
            }
        )


def test_the_command_line_chooses_the_client_and_refuses_unknown_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from canaria.cli.main import build_parser

    parser = build_parser()
    args = parser.parse_args(["router", "--config", "r.yaml", "--upstream-client", "aiohttp"])
    assert args.upstream_client == "aiohttp"
    assert parser.parse_args(["router", "--config", "r.yaml"]).upstream_client is None
    with pytest.raises(SystemExit):
        parser.parse_args(["router", "--config", "r.yaml", "--upstream-client", "curl"])
    assert "invalid choice: 'curl'" in capsys.readouterr().err
    # The override wins over the file's choice.
    config = parse_config({"upstreams": {"stable": {"url": "http://m"}}})
    assert config.upstream_client.implementation is UpstreamClientKind.CUSTOM
    app = RouterApp(config, upstream_client=UpstreamClientKind.AIOHTTP)
    assert app.upstream_client is UpstreamClientKind.AIOHTTP
    assert type(app._pool).__name__ == "AiohttpPool"


def test_a_reload_that_changes_the_client_is_logged_and_waits_for_a_restart(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = {"upstreams": {"stable": {"url": "http://m"}}}
    app = RouterApp(parse_config(raw))
    changed = parse_config({**raw, "upstream_client": {"max_connections_per_upstream": 2}})
    with caplog.at_level("WARNING"):
        app._reloaded(changed)
    assert "upstream_client changed: it applies at the next start" in caplog.text
    assert app.config is changed  # the rest of the file is in force
