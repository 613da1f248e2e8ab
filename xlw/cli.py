"""The `xlw` command: one entry point for the workbench's command-line tools.

    xlw report --only 03b -p pairs='["en-cs"]'       execute notebooks into reports/<profile>/
    xlw translate MODEL --pair en-de < in.txt        translate lines with any saved model
    xlw models install gemma-3-270m                  make the offline copies of pretrained models

`xlw COMMAND --help` shows a command's options; each also runs as `python -m xlw.<module>`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# command: (module whose main(argv) runs it, what it does)
COMMANDS = {
    "report": ("xlw.report", "execute notebooks with papermill into reports/<profile>/ (resumable)"),
    "translate": ("xlw.translate", "translate stdin or --input with a saved model, line by line"),
    "models": ("xlw.pretrained", "install offline copies of pretrained models (`xlw models install NAME`)"),
}


def usage() -> str:
    """The top-level help: the commands, then the examples of the module docstring."""
    listing = "\n".join(f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items())
    examples = __doc__.split("\n\n")[1]
    return f"usage: xlw COMMAND [ARGS...]\n\ncommands:\n{listing}\n\nexamples:\n{examples}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run `xlw COMMAND ARGS…`; 0 for --help, 2 (with the usage) for a missing or unknown command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"]):
        print(usage())
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(usage() + ("" if not argv else f"\nxlw: unknown command {argv[0]!r}\n"), file=sys.stderr)
        return 2
    module, _ = COMMANDS[argv[0]]
    return importlib.import_module(module).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
