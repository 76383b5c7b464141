#!/usr/bin/env python3
"""Regenerates the README's command-line transcripts from the program itself, so they cannot drift.

  scripts/readme-transcripts.py [--check] [--build BUILD_DIR] [README]

A fenced block after `<!-- transcript -->` holds `$ COMMAND` lines, each followed by its output;
the outputs are replaced by what the commands print now (stdout and stderr). A block after
`<!-- transcript: COMMAND -->` is replaced by COMMAND's output as a whole. Commands run in order
under bash, in one scratch directory that links the checkout's configs/ and build/ (so
`configs/...`, `build/bin/...` and the runs the commands write resolve as from the checkout),
with BUILD_DIR/bin first on PATH.

--check rewrites nothing: it fails, naming the line, when a transcript differs from what the
commands print now. Every word and the layout must match exactly; times and speeds are not
compared (nor the note a busy machine adds to an epoch line), and other numbers agree within 25 % (another CPU's kernels round differently, and over a
30-epoch run that moves the accuracies of the rank-1 to rank-8 compressions by a few points). The ctest entry readme.transcripts
runs it.
"""
import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile

MARKER = re.compile(r"^<!-- transcript(?::\s*(.*?))?\s*-->$")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
# Measurements of this machine's speed: masked before comparing.
TIMINGS = [re.compile(p) for p in (r"\b\d+(?:\.\d+)?s\b", r"\b\d+ samples/s", r'"seconds":[\d.]+',
                                    r'"samples_per_second":[\d.]+', r"\d+:\d\d")]
# What this machine's load adds to a line (the trainer giving up cores other processes take): dropped.
LOAD_NOTES = [re.compile(r" \| down to \d+ of \d+ threads: other processes are using cores")]


def run(command, cwd, env):
    done = subprocess.run(["bash", "-c", "exec 2>&1; " + command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)
    return done.stdout.rstrip("\n").splitlines()


def regenerate(lines, cwd, env):
    """The README's lines with every transcript block's outputs produced anew."""
    out, i = [], 0
    while i < len(lines):
        out.append(lines[i])
        m = MARKER.match(lines[i].strip())
        if not m:
            i += 1
            continue
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):  # up to the fence
            out.append(lines[i])
            i += 1
        out.append(lines[i])
        end = i + 1
        while not lines[end].startswith("```"):
            end += 1
        body = lines[i + 1:end]
        if m.group(1):
            out.extend(run(m.group(1), cwd, env))
        else:
            for line in body:
                if line.startswith("$ "):
                    out.append(line)
                    out.extend(run(line[2:], cwd, env))
        out.append(lines[end])
        i = end + 1
    return out


def masked(line):
    for n in LOAD_NOTES:
        line = n.sub("", line)
    for t in TIMINGS:
        line = t.sub("<measured>", line)
    return line


def same(a, b):
    a, b = masked(a), masked(b)
    if NUMBER.sub("#", a).split() != NUMBER.sub("#", b).split():
        return False
    return all(abs(float(x) - float(y)) <= 0.25 * max(abs(float(x)), abs(float(y))) + 1e-9
               for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of rewriting")
    parser.add_argument("--build", default="build", help="the build directory (default: build)")
    parser.add_argument("readme", nargs="?", default="README.md")
    args = parser.parse_args()
    readme = pathlib.Path(args.readme).resolve()
    checkout, build = readme.parent, pathlib.Path(args.build).resolve()
    if not (build / "bin" / "tinynn").exists():
        sys.exit(f"readme-transcripts: {build}/bin/tinynn not found (build first, or pass --build)")
    lines = readme.read_text().splitlines()
    with tempfile.TemporaryDirectory(prefix="tinynn-transcripts-") as scratch:
        os.symlink(checkout / "configs", pathlib.Path(scratch) / "configs")
        os.symlink(build, pathlib.Path(scratch) / "build")
        env = dict(os.environ, PATH=f"{build / 'bin'}:{os.environ['PATH']}", COLUMNS="100")
        new = regenerate(lines, scratch, env)
    if not args.check:
        readme.write_text("\n".join(new) + "\n")
        print(f"readme-transcripts: {readme} regenerated")
        return
    if len(new) != len(lines) or not all(same(a, b) for a, b in zip(new, lines)):
        diffs = [f"  README: {b}\n  now:    {a}" for a, b in zip(new + [""] * len(lines), lines + [""] * len(new)) if not same(a, b)]
        sys.exit("FAILED: README transcripts are out of date (run scripts/readme-transcripts.py):\n" + "\n".join(diffs[:20]))
    print("PASSED: README transcripts are current")


if __name__ == "__main__":
    main()
