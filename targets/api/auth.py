"""The token endpoint, guarded like the login page (SPEC §2 "Logins").

django-axes counts failed passwords per username and refuses a locked one; on this endpoint
its refusal surfaces as "wrong credentials", so the view tells the client the truth with 429.
A scoped throttle caps how fast one address may try at all (settings: TOKEN_THROTTLE_RATE).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import ScopedRateThrottle


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _(
        "Too many failed logins for this username: it is locked for 15 minutes. "
        "An administrator can lift the lock."
    )
    default_code = "locked_out"


class ObtainToken(ObtainAuthToken):
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth-token"

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.ValidationError:
            # Axes marks the request it refused (the DRF request it was handed, or Django's).
            if getattr(request, "axes_locked_out", False) or getattr(
                request._request, "axes_locked_out", False
            ):
                raise LockedOut from None
            raise


obtain_token = ObtainToken.as_view()
