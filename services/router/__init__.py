"""The canaria router: traffic split between stable and canary, and the shadow sidecar.

Stack, chosen by measurement: the same minimal proxy written on each stack, in front of a
trivial JSON upstream, driven by wrk on one 2-core machine shared with the upstream and
with other work (so: one-off numbers, read the ratios within a run):

- run 1: uvicorn (httptools, uvloop) + raw ASGI + pooled aiohttp client: 7,100 req/s at
  16 connections, p50 0.37-0.41 ms at 1; aiohttp server + aiohttp client (uvloop):
  5,700 req/s, p50 0.34-0.46 ms; uvicorn + raw ASGI + httpx.AsyncClient: 590 req/s;
- run 2: uvicorn + raw ASGI + our httptools client (``upstream.py``): 4,900-5,500 req/s,
  p50 0.20-0.24 ms; the same with the aiohttp client: 1,600-2,800 req/s, p50 0.33-0.41 ms.

So uvicorn with httptools and uvloop serves a raw ASGI app (no framework between the
socket and the proxy code), and a small HTTP/1.1 client on httptools with pooled
keep-alive connections talks to the upstreams (``upstream.py``): the proxy spends most of
its time in its client, and that one costs a third of aiohttp's. Shadow copies use their
own pool, so they never queue behind primary requests. The router's own costs are
measured by ``bench/bench_router.py`` (results in the README).

Modules: ``config`` (YAML schema), ``routing`` (pure variant choice), ``proxy``
(forwarding, streaming), ``upstream`` (the HTTP client: pool, requests, answers) and
``connection`` (one upstream connection and its parser), ``shadow`` + ``compare`` +
``answers`` + ``embedding`` (the shadow comparison), ``ratelimit``, ``metrics``,
``admin``, ``reload``, ``app`` (ASGI), ``server`` (uvicorn entry point used by
``canaria router``).
"""
