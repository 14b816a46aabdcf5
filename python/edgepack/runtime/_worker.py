"""Child side of _isolate.call_isolated: `python -m edgepack.runtime._worker REQUEST RESULT`."""

from __future__ import annotations

import importlib
import pickle
import sys
import traceback

from edgepack.errors import Error


def main(req: str, res: str) -> int:
    with open(req, "rb") as f:
        module, qualname, args, kwargs = pickle.load(f)
    try:
        fn = importlib.import_module(module)
        for part in qualname.split("."):
            fn = getattr(fn, part)
        result = ("ok", fn(*args, **kwargs))
    except Error as e:
        result = ("error", e)
    except BaseException as e:  # any other failure goes back to the parent with its traceback
        result = ("exception", f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
    with open(res + ".tmp", "wb") as f:
        pickle.dump(result, f)
    import os

    os.replace(res + ".tmp", res)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
