"""Build shim: the metadata lives in setup.cfg; the package layout is here.

The example configs stay at the repository's top level (`configs/`, where
`--config=configs/x.py` finds them) and ship inside the wheel as the
package `estweight.configs`, so an installed estweight has them too
(`importlib.resources.files("estweight.configs")`). They are plain config
modules, so `configs/` has no `__init__.py`: `estweight.configs` is a
namespace package.
"""
import setuptools

setuptools.setup(
    packages=setuptools.find_packages(include=["estweight", "estweight.*"]) +
    ["estweight.configs"],
    package_dir={"estweight.configs": "configs"},
)
