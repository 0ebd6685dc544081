import os
import sys

# `python -m scanner` puts the current folder first on sys.path. In a scanned repository that
# folder may hold its own json.py or argparse.py (the Python standard library itself, say), which
# must not be imported in place of the real ones: drop it unless keysentry itself lives there.
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == os.getcwd() \
        and os.path.dirname(os.path.dirname(os.path.abspath(__file__))) != os.getcwd():
    del sys.path[0]

from scanner.cli import main

raise SystemExit(main())
