"""awsenvs entry point. `python main.py` alone synthesizes (the cdktf.json app contract)."""

import sys

from awsenvs.cli import main

if __name__ == "__main__":
    sys.exit(main())
