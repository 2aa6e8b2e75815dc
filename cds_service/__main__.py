"""`python -m cds_service ...` is `rheum-cds ...`."""

import sys

from cds_service.cli import main

sys.exit(main())
