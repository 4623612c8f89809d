import os
import sys

# the shared oracle lives one folder up (tests/oracle.py)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
