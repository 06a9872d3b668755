#!/usr/bin/env python3
"""Builds data/alice.txt.gz: Lewis Carroll's *Alice's Adventures in Wonderland* (1865), complete, as plain text.

The text is the file tests/testdata/alice29.txt of the Python package Brotli 1.2.1 (source distribution
brotli-1.2.1.tar.gz, MIT licence). That file is the Canterbury Corpus copy of the "Millennium Fulcrum
Edition 2.9" e-text: 152,089 bytes of ASCII, DOS line endings, a DOS end-of-file byte (0x1A) at the end, and
no header, licence or trademark text of any e-text distributor. The work is in the public domain (the author
died in 1898).

The script normalises it, and does nothing else:

  * checks that the bytes are 7-bit ASCII and removes the single trailing 0x1A byte,
  * turns CRLF line endings into LF (and checks that no other CR is left),
  * removes trailing spaces from every line, the blank lines before the title, and ends the file with exactly
    one newline,
  * replaces the backtick ` (which this edition uses as the opening single quote: `like this') by the
    apostrophe ', so the quotes read 'like this'.

Indentation (paragraphs start with two spaces; titles are centred with spaces), line breaks, the
"*    *    *" separators and all other characters are kept. The result is UTF-8 (pure ASCII) with 71 distinct
characters, written through `gzip -n -9` (no name, no time stamp) so the output is reproducible.

Usage:
    python3 data/scripts/make_alice.py [SOURCE] [OUTPUT]

SOURCE is brotli-1.2.1.tar.gz, the folder it unpacks to, or alice29.txt itself; without it (or with an
empty SOURCE) the script runs `pip download --no-deps --no-binary :all: brotli==1.2.1` in a temporary folder.
The archive and the extracted text are both checked against the sha256 values below. OUTPUT defaults to
data/alice.txt.gz. Needs python3 (standard library only), gzip, and pip when no SOURCE is given.
"""

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "brotli==1.2.1"
ARCHIVE = "brotli-1.2.1.tar.gz"
ARCHIVE_SHA256 = "02b2f7b5a83485efe448a44ddf7983def05c3bb1dcf917d4f7154070260e13de"
MEMBER = "brotli-1.2.1/tests/testdata/alice29.txt"
MEMBER_SHA256 = "7467306ee0feed4971260f3c87421154a05be571d944e9cb021a5713700c38f0"
TEXT_SHA256 = "3221831ad0dd3b5f716951f413cca45e38a31d3b41c9242adf1111d375b5887f"
GZ_SHA256 = "f5f65c2d7515fed76cace81cc3f1ec2a8a17f97a24c38566bdc8d53123f1d1b7"  # with GNU gzip 1.12


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def check(what, data, expected):
    actual = sha256(data)
    if actual != expected:
        sys.exit(f"{what}: sha256 {actual}, expected {expected}")


def pip_download(tmp):
    """Downloads the Brotli 1.2.1 source distribution into tmp and returns its path."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "-d", tmp, PACKAGE],
        check=True,
    )
    return os.path.join(tmp, ARCHIVE)


def read_source(source):
    """Returns the raw bytes of alice29.txt from the archive, its unpacked folder or the file itself."""
    if os.path.isdir(source):
        path = os.path.join(source, "tests", "testdata", "alice29.txt")
        with open(path, "rb") as f:
            return f.read()
    with open(source, "rb") as f:
        data = f.read()
    if not data.startswith(b"\x1f\x8b"):
        return data  # alice29.txt itself
    check(os.path.basename(source), data, ARCHIVE_SHA256)
    with tarfile.open(source, "r:gz") as tar:
        return tar.extractfile(MEMBER).read()


def normalise(raw):
    text = raw.decode("ascii")  # raises on any byte >= 0x80
    if not text.endswith("\x1a"):
        raise ValueError("expected the DOS end-of-file byte at the end")
    text = text[:-1].replace("\r\n", "\n")
    if "\r" in text or "\x1a" in text or "\t" in text:
        raise ValueError("unexpected CR, 0x1A or tab left in the text")
    lines = [line.rstrip(" ") for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    text = "\n".join(lines) + "\n"
    return text.replace("`", "'").encode("ascii")


def main():
    args = sys.argv[1:]
    source = args[0] if args else ""
    here = os.path.dirname(os.path.abspath(__file__))
    out = args[1] if len(args) > 1 else os.path.join(here, "..", "alice.txt.gz")

    with tempfile.TemporaryDirectory() as tmp:
        raw = read_source(source or pip_download(tmp))
    check("alice29.txt", raw, MEMBER_SHA256)

    text = normalise(raw)
    compressed = subprocess.run(["gzip", "-n", "-9", "-c"], input=text, check=True, capture_output=True).stdout
    with open(out, "wb") as f:
        f.write(compressed)

    chars = sorted(set(text.decode("ascii")))
    lines = text.count(b"\n")
    print(f"text    {len(text):,} bytes, {lines:,} lines, {len(chars)} distinct characters")
    print(f"sha256  {sha256(text)}  (text)")
    print(f"sha256  {sha256(compressed)}  {os.path.normpath(out)} ({len(compressed):,} bytes)")
    check("normalised text", text, TEXT_SHA256)
    print("ok: the text matches the recorded sha256")
    if sha256(compressed) != GZ_SHA256:
        print(f"note: this gzip compresses differently from GNU gzip 1.12 (recorded .gz sha256 {GZ_SHA256});")
        print("      the text is identical, which is what matters")


if __name__ == "__main__":
    main()
