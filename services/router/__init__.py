"""The canaria router: traffic split between stable and canary, and the shadow sidecar.

Stack, chosen by measurement (wrk, 16 connections, trivial JSON upstream, one 2-core
machine shared with the load generator and the upstream; see bench/bench_router.py):

=====================================  ===========  ============
proxy stack                            requests/s   p50 at c=1
=====================================  ===========  ============
uvicorn (httptools, uvloop) + raw ASGI  ~7,100      ~0.4 ms
  + pooled aiohttp client
aiohttp server + aiohttp client         ~5,700      ~0.4 ms
  (uvloop)
uvicorn + raw ASGI + httpx.AsyncClient    ~590      ~23 ms (c=16)
=====================================  ===========  ============

So: uvicorn with httptools and uvloop serves a raw ASGI app (no framework between the
socket and the proxy code), and a pooled ``aiohttp.ClientSession`` talks to the
upstreams; httpx's async pool was ten times slower here. A second session with its own
connections carries shadow traffic, so shadow requests never queue behind primary ones.

Modules: ``config`` (YAML schema), ``routing`` (pure variant choice), ``proxy``
(forwarding, streaming), ``shadow`` + ``compare`` + ``answers`` + ``embedding`` (the
shadow comparison), ``ratelimit``, ``metrics``, ``admin``, ``reload``, ``app`` (ASGI),
``server`` (uvicorn entry point used by ``canaria router``).
"""
