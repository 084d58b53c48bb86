# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

from . import special as special
