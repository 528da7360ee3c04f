"""The canaria router: traffic split between stable and canary, and the shadow sidecar.

Stack, chosen by measurement: the same minimal proxy written on each stack, in front of a
trivial JSON upstream, driven by wrk on one 2-core machine shared with the upstream and
with other work (so: one-off numbers, read the ratios):

- uvicorn (httptools, uvloop) + raw ASGI + pooled aiohttp client: 7,100 req/s at 16
  connections; p50 0.37-0.41 ms at 1 connection;
- aiohttp server + aiohttp client (uvloop): 5,700 req/s; p50 0.34-0.46 ms;
- uvicorn + raw ASGI + httpx.AsyncClient: 590 req/s (p50 23 ms at 16 connections).

So uvicorn with httptools and uvloop serves a raw ASGI app (no framework between the
socket and the proxy code), and a pooled ``aiohttp.ClientSession`` talks to the upstreams;
httpx's async pool was ten times slower. A second session with its own connections
carries the shadow copies, so they never queue behind primary requests. The router's own
costs are measured by ``bench/bench_router.py`` (results in the README).

Modules: ``config`` (YAML schema), ``routing`` (pure variant choice), ``proxy``
(forwarding, streaming), ``shadow`` + ``compare`` + ``answers`` + ``embedding`` (the
shadow comparison), ``ratelimit``, ``metrics``, ``admin``, ``reload``, ``app`` (ASGI),
``server`` (uvicorn entry point used by ``canaria router``).
"""
