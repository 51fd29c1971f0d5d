"""The README's code examples are the code of tests: each fenced block after a line
`<!-- example: PATH -->` must equal the lines between `README-BEGIN` and `README-END` in PATH
(dedented). `--write` copies the tests' code into the README; without it, a difference fails."""

import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!-- example: (\S+) -->\n```(\w*)\n(.*?)```", re.S)


def test_code(path: Path) -> str:
    text = path.read_text()
    m = re.search(r"README-BEGIN[^\n]*\n(.*?)\n[^\n]*README-END", text, re.S)
    if not m:
        raise SystemExit(f"readme_examples: no README-BEGIN/README-END in {path}")
    return textwrap.dedent(m.group(1)) + "\n"


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    found, stale = 0, []

    def replace(m: re.Match) -> str:
        nonlocal found
        found += 1
        want = test_code(ROOT / m.group(1))
        if m.group(3) != want:
            stale.append(m.group(1))
        return f"<!-- example: {m.group(1)} -->\n```{m.group(2)}\n{want}```"

    new = MARKER.sub(replace, text)
    if found == 0:
        print("readme_examples: no example markers in README.md", file=sys.stderr)
        return 1
    if "--write" in sys.argv:
        readme.write_text(new)
        print(f"readme_examples: {found} examples written")
        return 0
    if stale:
        print(f"readme_examples: README examples differ from their tests: {', '.join(stale)}; "
              "run `python scripts/readme_examples.py --write`", file=sys.stderr)
        return 1
    print(f"readme_examples: OK: {found} examples are the code of their tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
