"""What the ratio scripts (ratio_table.py, conv_ratios.py, upsample_ratios.py) share: reading a CSV
report — bench's, or a peer script's — with a clear error for a path that is missing, a directory, a
FIFO or a device, a file that is not a CSV of the expected columns, or a time that is not a number; and
the geometric mean. The scripts only read their inputs and print to standard output.
"""
import csv
import math
import os
import stat
import sys


def fail(message):
    """Exit 2 with `message` on standard error, prefixed by the script's name."""
    print(f"{os.path.basename(sys.argv[0])}: {message}", file=sys.stderr)
    sys.exit(2)


def read_rows(path, required, what="bench CSV report"):
    """The rows of the CSV at `path` as dicts (lines starting with '#' skipped), after checking that
    it is a readable regular text file whose header has every column in `required`."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        fail(f"{path}: {error.strerror.lower()}")
    if stat.S_ISDIR(mode):
        fail(f"{path}: is a directory, not a {what}")
    if not stat.S_ISREG(mode):
        fail(f"{path}: is not a regular file (a FIFO or a device?), not a {what}")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            lines = [line for line in f if not line.startswith("#")]
    except UnicodeDecodeError:
        fail(f"{path}: not a text file, not a {what}")
    except OSError as error:
        fail(f"{path}: {error.strerror.lower()}")
    reader = csv.DictReader(lines)
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        fail(f"{path}: not a {what}: no column {', '.join(missing)}")
    return list(reader)


def number(row, column, path, empty=None):
    """`row[column]` as a positive float (or `empty` when the cell is empty and `empty` is given), or
    exit naming the file, the row and the value."""
    text = row.get(column) or ""
    if text == "" and empty is not None:
        return empty
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value >= 0 or math.isinf(value) or (value == 0 and empty is None):
        fail(f"{path}: {column} = {text!r} is not a positive number (row {dict(list(row.items())[:5])})")
    return value


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))
