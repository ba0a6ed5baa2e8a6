"""A satellite's --mic-command in tests: waits for FLAG to exist, then plays RAW (s16le 16 kHz
mono) to stdout at real-time pace, then room silence (a microphone never ends)."""
import os
import sys
import time

raw, flag = sys.argv[1], sys.argv[2]
while not os.path.exists(flag):
    time.sleep(0.02)
data = open(raw, "rb").read()
step = 1024 * 2  # 1024 samples = 64 ms
start = time.monotonic()
i = 0
while True:
    chunk = data[i:i + step] if i < len(data) else bytes(step)
    sys.stdout.buffer.write(chunk.ljust(step, b"\0"))
    sys.stdout.buffer.flush()
    i += step
    wait = start + i / 32000 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
