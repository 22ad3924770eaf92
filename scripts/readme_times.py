"""How long a newcomer waits: README's two commands run exactly as written, each in a fresh
clone of this repository's HEAD (fresh virtual environment, install included), and every
notebook top to bottom; the times go to figures/speed/runtimes.json and runtimes.md, which
README and the book quote (tests/test_readme_numbers.py reads them back).

    python scripts/readme_times.py                     # both commands, then the notebooks
    python scripts/readme_times.py --only figures      # one command
    python scripts/readme_times.py --only notebooks    # the notebooks, in this environment

Run it on a machine doing nothing else: it measures wall time, and the two commands and
the notebooks run one after another, never together. A command that fails is recorded
with its exit status and the end of its output, and this script exits 1. Each entry
replaces the one of the same name in runtimes.json; the others are kept.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "figures" / "speed"
JOBS = ("figures", "tests", "notebooks")
# README's code blocks under this heading, told apart by their last word
SECTION = "## Two commands on a fresh machine"
COMMAND_ENDS = {"figures": "python -m rnnzoo figures", "tests": "python -m pytest"}


def readme_commands(readme_text) -> dict:
    """{"figures": command, "tests": command}, as README's section shows them."""
    section = readme_text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)
    found = {job: [b.strip() for b in blocks if b.strip().endswith(end)]
             for job, end in COMMAND_ENDS.items()}
    for job, commands in found.items():
        if len(commands) != 1:
            raise SystemExit(f"README's '{SECTION}' should show one command ending "
                             f"'{COMMAND_ENDS[job]}'; found {len(commands)}")
    return {job: commands[0] for job, commands in found.items()}


def machine() -> str:
    from rnnzoo.benchmark.scan import cpu_name      # the name the speed tables use too
    return f"{os.cpu_count()}-core {cpu_name()}, Python {platform.python_version()}"


def head() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                          capture_output=True, check=True).stdout.strip()


def time_command(command, log):
    """Run ``command`` with bash in a fresh clone of HEAD: (seconds, exit status)."""
    with tempfile.TemporaryDirectory(prefix="rnnzoo-newcomer-") as tmp:
        clone = pathlib.Path(tmp) / "rnnzoo"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        start = time.perf_counter()
        with open(log, "w") as out:
            done = subprocess.run(["bash", "-c", command], cwd=clone, stdout=out,
                                  stderr=subprocess.STDOUT)
        return time.perf_counter() - start, done.returncode


def time_notebooks() -> dict:
    """{notebook: seconds}, each executed top to bottom as tests/test_notebooks.py does."""
    import nbclient
    import nbformat
    times = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}).execute()
        times[path.stem] = round(time.perf_counter() - start, 1)
        print(f"{path.stem}: {times[path.stem]:.0f} s", flush=True)
    return times


def render(record) -> str:
    lines = ["# How long a newcomer waits", "",
             "Written by `python scripts/readme_times.py`; do not edit. README's two commands "
             "run exactly as written, each in a fresh clone (fresh virtual environment, "
             "install included), and every notebook top to bottom; wall time, on a machine "
             "doing nothing else.", ""]
    for job in ("figures", "tests"):
        if job in record:
            r = record[job]
            lines += [f"## The {job} command", "", f"`{r['command']}`", "",
                      f"{r['seconds'] / 60:.1f} minutes ({r['seconds']:.0f} s), exit status "
                      f"{r['rc']}; commit {r['commit']}, {r['date']}, {r['machine']}.", ""]
    if "notebooks" in record:
        r = record["notebooks"]
        lines += ["## The notebooks", "",
                  f"Each executed top to bottom (nbclient, as `tests/test_notebooks.py` does); "
                  f"commit {r['commit']}, {r['date']}, {r['machine']}.", "",
                  "| notebook | seconds |", "|---|---|"]
        lines += [f"| {name} | {s:.0f} |" for name, s in r["seconds"].items()]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", choices=JOBS, default=list(JOBS),
                   help="what to time (default: all three, in this order)")
    args = p.parse_args(argv)
    path = OUT / "runtimes.json"
    record = json.loads(path.read_text()) if path.exists() else {}
    commands = readme_commands((ROOT / "README.md").read_text())
    stamp = dict(commit=head(), machine=machine(),
                 date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"))
    failed = False
    for job in [j for j in JOBS if j in args.only]:
        if job == "notebooks":
            record[job] = dict(seconds=time_notebooks(), **stamp)
        else:
            log = pathlib.Path(tempfile.gettempdir()) / f"readme_times_{job}.log"
            print(f"{job}: {commands[job]} (output in {log})", flush=True)
            seconds, rc = time_command(commands[job], log)
            record[job] = dict(command=commands[job], seconds=round(seconds, 1), rc=rc,
                               **stamp)
            print(f"{job}: exit status {rc} in {seconds:.0f} s", flush=True)
            if rc:
                failed = True
                print(log.read_text()[-3000:], file=sys.stderr)
        OUT.mkdir(parents=True, exist_ok=True)     # written after each job: none is lost
        path.write_text(json.dumps(record, indent=1) + "\n")
        (OUT / "runtimes.md").write_text(render(record))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
