"""The activation server: a FastAPI app serving the attribution engine, collated component
records and model information to the debugger UI (`create_app`, `tdb serve`)."""

from neuron_explainer.activation_server.main import create_app
from neuron_explainer.activation_server.settings import Settings

__all__ = ["Settings", "create_app"]
