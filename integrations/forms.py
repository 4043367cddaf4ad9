from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class DealImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8 or GBK, as Excel saves it) or XLSX, at most 50 MB. Columns: "
            "external_id, account, owner or owner_email, amount, close_date; optional stage, "
            "won, splits."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    keep_good_rows = forms.BooleanField(
        label=_("Write the good rows even when some rows are bad"), required=False
    )
