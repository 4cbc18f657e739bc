"""``python -m custom_audiences``: the same command line as ``custom-audiences``."""

from custom_audiences.cli import main

if __name__ == "__main__":
    main()
