"""(being written)"""

FUNCTIONS = []
METHODS = []
INPLACE = {}
OPERATORS = {}
