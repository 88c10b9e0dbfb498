"""``python -m vectorseq`` (and ``torchrun -m vectorseq train CONFIG``)."""
import sys

from .cli import main

sys.exit(main())
