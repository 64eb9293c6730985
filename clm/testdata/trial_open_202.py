#!/usr/bin/env python3
"""Times the CLM 2.0.2 trial open in Python, for comparison with the Go
BenchmarkTrialOpen (clm/bench_test.go).

This is OUR implementation of the 2.0.2 algorithm, written here from
docs/PROTOCOL.md with the standard library's hashlib and hmac, for timing
only. It is not the chrono-library-messenger client itself (that package
cannot be installed on the project machine), so its figure stands in for
the client's speed: a plain, straightforward Python rendering of the same
steps, as the client performs them.

A 2.0.2 trial open is what a client does to see whether a secret opens a
pointer: rebuild the seed and the HMAC-DRBG keystream for the whole of d,
XOR, and check the result is UTF-8, starts with '#' and holds the separator
twice. The pointer timed is the Go benchmark's: the message
Work / bob / "Meeting moved to 15:00" at epoch 1758411713, tried against
the wrong secret "another chat's secret".

Before timing, the script checks itself against the first encode vector
of testdata/clm-v2.json (it must open the vector's pointer to its message).

Usage: python3 clm/testdata/trial_open_202.py [seconds]
Prints one line: ns per trial open and trial opens per second.
"""
import hashlib
import hmac
import json
import os
import sys
import time
from base64 import urlsafe_b64encode

SEPARATOR = "|\u00b6|"


def mac(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


def keystream(secret, epoch, nonce, n):
    """Making a pointer, steps 3 and 4."""
    seed = hashlib.sha256(f"{secret}_{epoch}_{nonce}".encode()).digest()
    k = b"\x00" * 32
    v = b"\x01" * 32
    k = mac(k, v + b"\x00" + seed)
    v = mac(k, v)
    k = mac(k, v + b"\x01" + seed)
    v = mac(k, v)
    out = b""
    while len(out) < n:
        v = mac(k, v)
        out += v
    return out[:n]


def encode(secret, chat, user, message, epoch):
    """A plain 2.0.2 pointer (steps 1 to 6)."""
    signed = f"#{chat}{SEPARATOR}{user}{SEPARATOR}{message}".encode()
    digest = hashlib.sha256(signed + f"_{epoch}".encode()).digest()
    nonce = urlsafe_b64encode(digest).decode().rstrip("=")[:16]
    ks = keystream(secret, epoch, nonce, len(signed))
    d = bytes(a ^ b for a, b in zip(signed, ks)).hex()
    return {"e": epoch, "n": nonce, "d": d}


def trial_open(pointer, secret):
    """Opening steps 2 to 4; None when the secret does not open it."""
    data = bytes.fromhex(pointer["d"])
    ks = keystream(secret, pointer["e"], pointer["n"], len(data))
    plain = bytes(a ^ b for a, b in zip(data, ks))
    try:
        text = plain.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.startswith("#") or text.count(SEPARATOR) < 2:
        return None
    chat, user, message = text[1:].split(SEPARATOR, 2)
    return chat, user, message


def self_check():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "testdata", "clm-v2.json")) as f:
        v = json.load(f)["encode"][0]
    p = json.loads(v["pointer"])
    got = trial_open(p, v["secret"])
    if got != (v["chat"], v["username"], v["message"]):
        sys.exit(f"self-check failed: opened {got!r}")
    if encode(v["secret"], v["chat"], v["username"], v["message"], v["epoch"]) != p:
        sys.exit("self-check failed: encode differs from the vector")


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    self_check()
    p = encode("the right secret", "Work", "bob", "Meeting moved to 15:00", 1758411713)
    wrong = "another chat's secret"
    n, start = 0, time.process_time()
    while True:
        for _ in range(1000):
            if trial_open(p, wrong) is not None:
                sys.exit("the wrong secret opened the pointer")
        n += 1000
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            break
    print(f"PythonTrialOpen202\t{n}\t{elapsed / n * 1e9:.0f} ns/op\t{n / elapsed:.0f} checks/s")


if __name__ == "__main__":
    main()
