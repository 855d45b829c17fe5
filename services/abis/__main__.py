"""``python -m services.abis``: Tuntas's ABIS, the 1:N search behind the biometric stage."""

import os
import sys

# faiss's OpenMP threads spin between parallel regions by default, taking CPU that the
# database and the stage need on a shared server (HNSW inserts beside a busy core: ~25 % more
# CPU for the same work). Set before faiss loads; an operator's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from services.abis.main import serve
from services.abis.settings import AbisSettings
from services.runtime.service import main

settings = AbisSettings()
sys.exit(main("abis", settings.log_level, lambda: serve(settings)))
