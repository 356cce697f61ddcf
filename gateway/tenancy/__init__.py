"""Tenancy: tenants, API keys, subscriptions, and who may call what."""

from __future__ import annotations

from .models import AdminKey as AdminKey
from .models import ApiKey as ApiKey
from .models import Subscription as Subscription
from .models import Tenant as Tenant
from .principal import Principal as Principal

__all__ = ["AdminKey", "ApiKey", "Principal", "Subscription", "Tenant"]
