"""The canaria router: traffic split between stable and canary, and the shadow sidecar.

Stack, chosen by measurement (``bench/bench_router.py``; figures in ``bench/results/`` and
the README's Benchmarks section): uvicorn with httptools and uvloop serves a raw ASGI app
(no framework between the socket and the proxy code), and a small HTTP/1.1 client on
httptools with pooled keep-alive connections talks to the upstreams (``upstream.py``; an
aiohttp client, ``upstream_aiohttp.py``, is the alternative behind the same
``client.UpstreamPool``, chosen by ``upstream_client.implementation`` or
``--upstream-client``). Both cap the connections per upstream and verify https upstreams
against ``upstream_client.ca_bundle``. Shadow copies use their own pool, so they never
queue behind primary requests.

Modules: ``config`` (YAML schema), ``routing`` (pure variant choice), ``proxy``
(forwarding, streaming), ``client`` (the clients' interface, errors and connection cap),
``pools`` (picks one), ``upstream`` (the custom client: pool, requests, answers) and
``connection`` (one upstream connection and its parser), ``upstream_aiohttp`` (the aiohttp
client), ``shadow`` + ``compare`` +
``answers`` + ``embedding`` (the shadow comparison), ``ratelimit``, ``metrics``,
``admin``, ``reload``, ``app`` (ASGI), ``server`` (uvicorn entry point used by
``canaria router``).
"""
