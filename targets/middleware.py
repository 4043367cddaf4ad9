from __future__ import annotations

from django.utils import translation


class UserLanguageMiddleware:
    """A signed-in user's saved language beats the browser's (SPEC §9: per user)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user and user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
