"""The service's WSGI app for Granian (`python -m bench run` compares servers; not a deployment).

    RHEUM_CDS_ALLOW_UNSIGNED=1 granian --interface wsgi --workers 1 bench.granian_app:app

Built as `rheum-cds serve` builds it in a worker: configuration from the environment, the
knowledge loaded once, then the collector settled as in a gunicorn worker (heap.settle:
`gc.freeze()` and the raised young-generation threshold).
"""

from cds_service import heap
from cds_service.app import create_app

app = create_app()
heap.settle()
