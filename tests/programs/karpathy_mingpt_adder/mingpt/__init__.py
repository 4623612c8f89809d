# Source: https://github.com/karpathy/minGPT/blob/master/mingpt/__init__.py
# License: MIT (c) 2020 Andrej Karpathy
# Unchanged (the test passes small sizes on the command line: --data.ndigit=1 ...).
