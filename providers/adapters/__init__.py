"""Provider adapters behind one interface, looked up by the catalogue's name."""

from __future__ import annotations

from providers.adapters.anthropic import AnthropicAdapter
from providers.adapters.base import Adapter, ChatStream, Target, UpstreamError
from providers.adapters.demo import DemoAdapter
from providers.adapters.openai import OpenAIAdapter

ADAPTERS: dict[str, Adapter] = {
    "openai": OpenAIAdapter(),
    "anthropic": AnthropicAdapter(),
    "demo": DemoAdapter(),
}

__all__ = ["ADAPTERS", "Adapter", "ChatStream", "Target", "UpstreamError"]
