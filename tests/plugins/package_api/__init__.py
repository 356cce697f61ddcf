"""Handlers as a package whose submodules this file does not import (``pings.ping``)."""
