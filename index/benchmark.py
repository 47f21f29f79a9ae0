"""``python -m index.benchmark``: the benchmark of :mod:`index.devtools.benchmark`."""

from index.devtools.benchmark import main

if __name__ == "__main__":
    main()
