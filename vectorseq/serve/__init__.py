"""``vectorseq serve``: an HTTP translation server with cross-request batching, and a page that shows how
the text became vectors.

- :mod:`~vectorseq.serve.limits`: the limits, the request bodies, the JSON error shape;
- :mod:`~vectorseq.serve.batching`: the queue and the single decode thread (cross-request batching);
- :mod:`~vectorseq.serve.engines`: the PyTorch and CTranslate2 engines behind one interface;
- :mod:`~vectorseq.serve.app`: the FastAPI routes; ``static/``: the page at ``/`` (plain HTML/JS/CSS);
- :mod:`~vectorseq.serve.server`: loading the models and running uvicorn with a graceful SIGTERM.

Needs the ``serve`` extra (``pip install vectorseq[serve]``: FastAPI and uvicorn).
"""
