from setuptools import Extension, setup

setup(
    name="ph-demo-cext",
    version="1.0.0",
    description="Benign demo package with a C extension (its build runs gcc)",
    ext_modules=[Extension("ph_demo_cext", ["ph_demo_cext.c"])],
)
