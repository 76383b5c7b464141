#!/usr/bin/env python3
"""The README's C++ snippets as tests: every ```cpp block is a whole program that the test suite
compiles and runs; the block after it, when marked `<!-- prints -->`, is what it must print.

  readme_snippets.py extract README.md OUTDIR   write OUTDIR/snippet_N.cpp (and snippet_N.expected)
  readme_snippets.py check BINARY EXPECTED      run BINARY; its stdout must match EXPECTED

Matching compares words exactly and numbers within 1e-4 relative (0.5 % for lines that say
"loss"), so a printout survives another CPU's rounding but not a changed program or message.
"""
import pathlib
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(\S*)\s*$")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def blocks(text):
    """(info string, body, the last non-blank line before the fence) of every fenced block."""
    lines, out, i, before = text.splitlines(), [], 0, ""
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m:
            info, body, i = m.group(1), [], i + 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            out.append((info, "\n".join(body) + "\n", before))
            before = ""
        elif lines[i].strip():
            before = lines[i].strip()
        i += 1
    return out


def extract(readme, outdir):
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.glob("snippet_*"):
        old.unlink()
    found = blocks(pathlib.Path(readme).read_text())
    n = 0
    for k, (info, body, _) in enumerate(found):
        if info != "cpp":
            continue
        n += 1
        (outdir / f"snippet_{n}.cpp").write_text(f"// From {readme}, C++ block {n}; generated, do not edit.\n" + body)
        if k + 1 < len(found) and found[k + 1][2] == "<!-- prints -->":
            (outdir / f"snippet_{n}.expected").write_text(found[k + 1][1])
    print(f"readme_snippets: {n} C++ snippets from {readme}")


def same_line(got, want):
    if NUMBER.sub("#", got).split() != NUMBER.sub("#", want).split():
        return False
    tolerance = 5e-3 if "loss" in want else 1e-4
    for a, b in zip(NUMBER.findall(got), NUMBER.findall(want)):
        a, b = float(a), float(b)
        if abs(a - b) > tolerance * max(abs(a), abs(b)) + 1e-9:
            return False
    return True


def check(binary, expected):
    with tempfile.TemporaryDirectory() as scratch:  # snippets may write files
        run = subprocess.run([str(pathlib.Path(binary).resolve())], cwd=scratch, capture_output=True, text=True, timeout=600)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        sys.exit(f"FAILED: the snippet exited with {run.returncode}")
    if expected and pathlib.Path(expected).exists():
        want = pathlib.Path(expected).read_text().splitlines()
        got = run.stdout.splitlines()
        if len(got) != len(want) or not all(same_line(g, w) for g, w in zip(got, want)):
            sys.exit("FAILED: the snippet's output differs from the README's (update the README's `<!-- prints -->` block):\n"
                     + "\n".join(f"  README: {w}\n  now:    {g}" for g, w in zip(got + [""] * len(want), want + [""] * len(got))
                                 if not same_line(g, w)))
    print("PASSED")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "extract":
        extract(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
