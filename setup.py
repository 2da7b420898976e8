"""munit-tf: MUNIT as a Keras 3 / TensorFlow package with a TFX pipeline.

Ranges here; the exact resolved set is pinned in requirements.lock (see BUILD.md).
"""

from setuptools import find_packages, setup

setup(
    name="munit-tf",
    version="0.1.0",
    description=(
        "Multimodal Unsupervised Image-to-Image Translation (MUNIT) in Keras 3 with a TFX pipeline"
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10,<3.11",
    packages=find_packages(include=["munit_tf", "munit_tf.*", "pipeline", "pipeline.*"]),
    package_data={
        "munit_tf.presets": ["*.yaml"],
        "munit_tf.evaluation": ["weights/*.keras"],
        "munit_tf.portable": ["web/*.html", "web/*.js", "web/package*.json"],
    },
    install_requires=[
        "tensorflow>=2.16,<2.17",
        "keras>=3.5,<4",
        "tfx[kfp]==1.16.0",
        "apache-beam[gcp]>=2.60,<3",
        "dill>=0.3.1",  # tfx-bsl imports it; new Beam no longer pulls it in
        "kfp>=2.5,<3",
        "tensorflow-datasets>=4.9,<5",
        "numpy>=1.22,<2",
        "pillow>=9.1",
        "pyyaml>=6",
        "scipy>=1.9",
        "tensorflow-serving-api>=2.16,<2.17",
    ],
    extras_require={
        "test": [
            "pytest>=7",
            "pytest-xdist>=3.5",
            "nbclient>=0.7",
            "nbformat>=5",
            "ipykernel>=6",
            "matplotlib>=3.5",
            "portpicker>=1.5",
            "hypothesis>=6.100",
            "ruff>=0.17,<0.18",  # lint and format (pyproject.toml); `make lint`
        ],
    },
    entry_points={"console_scripts": ["munit-tf=munit_tf.cli:main"]},
)
