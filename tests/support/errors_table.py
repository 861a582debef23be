"""Runs the bad-input cases (bad_inputs.py) and renders docs/errors.md.

    python tests/support/errors_table.py --write   # regenerates the page

Each case runs in its own fresh directory, in this process (the CLI through
`estweight.cli.app.run`, the function its console script calls). What is
recorded: the exception class (or the CLI's exit code), its message, whether
a training step ran (a checkpoint of a later step appeared) and whether the
model_dir was left untouched (every file's size and mtime).
"""
import contextlib
import dataclasses
import io
import os
import re
import socket
import sys
import tempfile

from absl import logging

if __name__ == "__main__":  # run as a script: tests/ on the path
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
      __file__))))

from support import bad_inputs  # pylint: disable=g-import-not-at-top,wrong-import-position
from support import models  # pylint: disable=g-import-not-at-top,wrong-import-position

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
DOC = os.path.join(REPO, "docs", "errors.md")
MAX_MESSAGE = 320


@dataclasses.dataclass
class Outcome:
  """What one case gave.

  Attributes:
    case: the Case.
    raised: the exception class name, 'exit <code>' for the CLI, or
      'nothing' when the case did not fail.
    message: the message on one line, normalised (see `normalize`).
    stepped: a checkpoint of a later global step appeared.
    untouched: model_dir's files are as they were (none, for a new one).
    changed: names of model_dir files added or changed, normalised.
  """
  case: bad_inputs.Case
  raised: str
  message: str
  stepped: bool
  untouched: bool
  changed: list


def normalize(text, ws):
  """One line; run-specific paths, addresses, pid and host replaced."""
  text = " ".join(str(text).split())
  text = text.replace(ws.model_dir, "<model_dir>").replace(ws.root, "<tmp>")
  text = re.sub(r"0x[0-9a-fA-F]+", "0x…", text)
  text = text.replace(f"pid {os.getppid()}", "pid <pid>")
  text = text.replace(f"'{socket.gethostname()}'", "'<host>'")
  if len(text) > MAX_MESSAGE:
    text = text[:MAX_MESSAGE - 1] + "…"
  return text


def _latest_step(model_dir):
  if not os.path.isdir(model_dir):
    return None
  steps = [int(m.group(1)) for m in (
      re.match(r"model\.ckpt-(\d+)\.index$", n) for n in os.listdir(model_dir))
           if m]
  return max(steps) if steps else None


def _changed(before, after):
  names = sorted(n for n in set(before) | set(after)
                 if before.get(n) != after.get(n))
  names = [re.sub(r"events\.out\.tfevents\..*", "events.out.tfevents.*", n)
           for n in names]
  return sorted(set(names))


@contextlib.contextmanager
def _quiet(err=None):
  """stdout, stderr and absl's log (whose handler keeps the stderr it was
  made with) go to `err` (default: nowhere)."""
  err = err if err is not None else io.StringIO()
  handler = logging.get_absl_handler().python_handler
  stream = handler.stream
  handler.stream = err
  try:
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(
        io.StringIO()):
      yield
  finally:
    handler.stream = stream


def run_case(case, root, template):
  """Runs `case` in a fresh directory under `root`; returns its Outcome."""
  ws = bad_inputs.Workspace(tempfile.mkdtemp(dir=root))
  with _quiet():  # the CLI's report and log
    bad_inputs.setup(case.setup, ws, template)
  if case.damage is not None:
    case.damage(ws)
  before, step_before = models.snapshot(ws.model_dir), _latest_step(
      ws.model_dir)
  err = io.StringIO()
  raised, message = "nothing", ""
  try:
    with _quiet(err):
      code = case.run(ws)
    if case.area == "CLI" or case.raises.startswith("exit"):
      lines = [l for l in err.getvalue().splitlines()
               if l.startswith("estweight")]
      raised = f"exit {code}" if code else "nothing"
      message = lines[-1] if lines else ""
  except Exception as e:  # pylint: disable=broad-except
    raised, message = type(e).__name__, str(e)
  after = models.snapshot(ws.model_dir)
  step_after = _latest_step(ws.model_dir)
  return Outcome(case, raised, normalize(message, ws),
                 stepped=step_after is not None and (
                     step_before is None or step_after > step_before),
                 untouched=before == after, changed=_changed(before, after))


def run_all(root, cases=None):
  """Outcomes of `cases` (default: every case), in order."""
  template = {"root": tempfile.mkdtemp(dir=root)}
  return [run_case(case, root, template)
          for case in (bad_inputs.CASES if cases is None else cases)]


def _cell(text):
  return text.replace("|", "\\|")


def _code(text):
  """A code span (so `<model_dir>` and backticks show as they are)."""
  return f"`` {_cell(text)} ``" if text else ""


def _model_dir_cell(outcome):
  if outcome.untouched:
    return "untouched"
  shown = outcome.changed[:4] + (["…"] if len(outcome.changed) > 4 else [])
  return "written: " + ", ".join(f"`{n}`" for n in shown)


def render(outcomes):
  """docs/errors.md for `outcomes`."""
  n = len(outcomes)
  untouched = sum(o.untouched for o in outcomes)
  no_step = sum(not o.stepped for o in outcomes)
  by_area = ", ".join(
      f"{sum(o.case.area == a for o in outcomes)} {a}"
      for a in bad_inputs.AREAS)
  lines = [
      "# Bad inputs and the errors they give",
      "",
      f"{n} mistakes ({by_area}) and what estweight does with each today: "
      "the exception (or the command line's exit code), its message, "
      "whether a training step ran, and what was written into model_dir. "
      f"{no_step} of {n} fail before any training step; {untouched} of {n} "
      "leave model_dir untouched.",
      "",
      "The page is generated: `tests/support/bad_inputs.py` holds the cases,",
      "`python tests/support/errors_table.py --write` runs them and rewrites",
      "this page, and `tests/test_errors_table.py` fails when an error",
      "changes without it. Messages are shown on one line, with the run's",
      "model_dir as `<model_dir>`, its temporary directory as `<tmp>`, and",
      f"cut after {MAX_MESSAGE} characters. Command-line messages are the",
      "one line `estweight` prints on stderr (`--verbosity=1` adds the",
      "traceback).",
      "",
      "| # | Area | Bad input | Error | Message | Step ran | model_dir |",
      "|---|---|---|---|---|---|---|",
  ]
  for i, o in enumerate(outcomes, 1):
    lines.append(
        f"| {i} | {o.case.area} | {_cell(o.case.what)} | `{o.raised}` | "
        f"{_code(o.message)} | {'yes' if o.stepped else 'no'} | "
        f"{_model_dir_cell(o)} |")
  return "\n".join(lines) + "\n"


def main(argv):
  with tempfile.TemporaryDirectory() as root:
    text = render(run_all(root))
  if "--write" in argv:
    with open(DOC, "w") as f:
      f.write(text)
    print(f"wrote {DOC}")
  else:
    sys.stdout.write(text)


if __name__ == "__main__":
  main(sys.argv[1:])
