"""JSON responses rendered by orjson (the app's default response class).

FastAPI's own `ORJSONResponse` is deprecated in the FastAPI this project uses, so the class is
defined here; it renders the data that the route's response model has already validated.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        # NaN and infinities become null (JSON has neither); the schemas declare such numbers
        # nullable.
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
