"""`python -m estweight <command> ...`: the estweight command line."""
from estweight.cli import app

if __name__ == "__main__":
  app.console_main()
