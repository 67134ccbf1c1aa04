"""Keep the entries of a full lock that the base locks do not already have (used by `make lock`).

The three locks are installed together with `pip install --no-deps --require-hashes -r …`: each entry must
appear in one of them only. Usage: python requirements/layer.py FULL BASE [BASE …] > OUT"""

import re
import sys


def entries(path: str) -> dict[str, str]:
    """Package name → its whole entry (the pin line, its hashes and its `# via` lines)."""
    out: dict[str, str] = {}
    name = None
    with open(path, encoding="utf-8") as lock:
        for line in lock:
            if line[:1].isalnum():
                name = re.split(r"[=\[ ]", line, maxsplit=1)[0].lower()
                out[name] = line
            elif name is not None:
                out[name] += line
    return out


full = entries(sys.argv[1])
base: dict[str, str] = {}
for path in sys.argv[2:]:
    base.update(entries(path))
for name, entry in full.items():
    if name in base:
        pin = entry.split("\\", 1)[0].strip()
        if base[name].split("\\", 1)[0].strip() != pin:
            sys.exit(f"{name}: {pin} here, {base[name].split(chr(92), 1)[0].strip()} in a base lock")
    else:
        sys.stdout.write(entry)
