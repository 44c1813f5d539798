"""The package's one version. pyproject.toml reads it (``dynamic = ["version"]``, setuptools ``attr:``), and so
do ``pulumi_bird.__version__``, the native plugin's schema ``version`` and GetPluginInfo, and
``pulumi-resource-bird --version``. Semantic versioning as CHANGELOG.md's "Versions" describes: change it only
when a release is cut, together with the CHANGELOG's heading for that release."""

__version__ = "0.1.0"
