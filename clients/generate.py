"""Regenerate the typed Python client from the service's OpenAPI document.

    python clients/generate.py [OUTPUT_DIR]     (default: clients/python)

The document is built in-process by the app itself (no server, no database),
written next to the client as `openapi.json`, and handed to
openapi-python-client. `make client` runs this; tests/clients checks that
the committed client is what this would generate.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "python"


def openapi_document() -> dict[str, Any]:
    from backend.app import create_app
    from backend.config import Settings

    app = create_app(Settings(app_env="testing", database_url="sqlite+aiosqlite://"))

    async def fetch() -> dict[str, Any]:
        response = await app.test_client().get("/openapi.json")
        document: dict[str, Any] = await response.get_json()
        return document

    return asyncio.run(fetch())


def generate(output: Path) -> None:
    output = output.resolve()  # the generator runs in a scratch directory
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    with tempfile.TemporaryDirectory() as scratch:
        document = Path(scratch) / "openapi.json"
        document.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True))
        subprocess.run(
            [
                str(bin_dir / "openapi-python-client"),
                "generate",
                "--path",
                str(document),
                "--config",
                str(HERE / "config.yaml"),
                "--meta",
                "setup",
                "--output-path",
                str(output),
                "--overwrite",
            ],
            check=True,
            env=env,
            cwd=scratch,
            stdout=subprocess.DEVNULL,
        )
        (output / "openapi.json").write_text(document.read_text() + "\n")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT)
