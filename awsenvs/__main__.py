"""`python -m awsenvs`: the same CLI as `python main.py` and the `awsenvs` console script."""

import sys

from awsenvs.cli import main

sys.exit(main())
