"""Nav entries for pages other engineers write: listed in mkdocs.yml, left
out of the build (with a note) until the file exists, so a strict build does
not fail on a page that is still being written."""
import logging
import os

OPTIONAL = ("errors.md",)

_log = logging.getLogger("mkdocs.hooks.optional_pages")


def _drop(nav, missing):
  out = []
  for item in nav:
    if isinstance(item, dict):
      (title, value), = item.items()
      if isinstance(value, list):
        out.append({title: _drop(value, missing)})
      elif value not in missing:
        out.append(item)
    elif item not in missing:
      out.append(item)
  return out


def on_config(config):
  """Drops OPTIONAL pages that do not exist yet from the nav."""
  missing = {page for page in OPTIONAL
             if not os.path.exists(os.path.join(config["docs_dir"], page))}
  if missing and config["nav"]:
    _log.info("not in the site yet (file missing): %s",
              ", ".join(sorted(missing)))
    config["nav"] = _drop(config["nav"], missing)
  return config
