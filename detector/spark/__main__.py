"""``spark-submit .../detector/spark/__main__.py scan INPUT... --engine spark --out DIR``:
the command line, run by spark-submit (which sets the master and the cluster's options)."""

from detector.cli import main

if __name__ == "__main__":
    main()
