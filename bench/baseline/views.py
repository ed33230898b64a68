"""Bare DRF endpoints: a single-table create and a single-row detail, no auth, no extras."""

from __future__ import annotations

from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from .models import BareItem


class BareItemSerializer(serializers.ModelSerializer):
    """Every field of the single table."""

    class Meta:
        model = BareItem
        fields = ["id", "title", "body", "phone", "created_at"]
        read_only_fields = ["id", "created_at"]


class BareCreate(generics.CreateAPIView):
    """POST one row (form-encoded or JSON)."""

    queryset = BareItem.objects.all()
    serializer_class = BareItemSerializer
    authentication_classes = ()
    permission_classes = (AllowAny,)


class BareDetail(generics.RetrieveAPIView):
    """GET one row by primary key."""

    queryset = BareItem.objects.all()
    serializer_class = BareItemSerializer
    authentication_classes = ()
    permission_classes = (AllowAny,)
