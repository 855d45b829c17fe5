import sys

from tuntas.cli import main

sys.exit(main())
