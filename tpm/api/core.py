"""Core endpoints: token creation and the caller's identity."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from tpm.models import User
from tpm.services import api_token_create


class MeSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = ("id", "username", "email", "first_name", "last_name", "is_executive")
        read_only_fields = fields


class TokenCreateWriteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, style={"input_type": "password"})
    name = serializers.CharField(max_length=100)


class TokenSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField(help_text="The key. It is shown only once; store it now.")
    name = serializers.CharField()


class TokenCreateView(APIView):
    """Exchange a username and password for a new named personal token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token-create"

    @extend_schema(request=TokenCreateWriteSerializer, responses={201: TokenSerializer})
    def post(self, request: Request) -> Response:
        data = TokenCreateWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None and (
            getattr(request, "axes_locked_out", False)
            or getattr(request._request, "axes_locked_out", False)
        ):
            return Response(
                {"detail": "Too many failed attempts for this user; try again in 15 minutes."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if user is None:
            return Response(
                {"non_field_errors": ["Unknown username or wrong password."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        _, key = api_token_create(actor=user, name=data.validated_data["name"])
        return Response(
            TokenSerializer({"token": key, "name": data.validated_data["name"]}).data,
            status=status.HTTP_201_CREATED,
        )


class MeView(APIView):
    """The authenticated caller."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
