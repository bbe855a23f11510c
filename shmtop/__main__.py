import sys

from shmtop.cli import main

sys.exit(main())
