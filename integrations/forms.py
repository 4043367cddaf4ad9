from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .importers import Importer


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"), widget=forms.RadioSelect, required=False
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GBK, as Excel saves it) or XLSX, at most 50 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    period = forms.CharField(
        label=_("Quarter (targets)"),
        required=False,
        max_length=10,
        help_text=_("e.g. 2025Q3; an XLSX exported from the grid names it already."),
    )
    keep_good_rows = forms.BooleanField(
        label=_("Write the good rows even when some rows are bad"), required=False
    )

    def __init__(self, *args, importers: list[Importer], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(i.kind, i.label) for i in importers]
        self.default_kind = importers[0].kind if importers else ""
        self.fields["kind"].initial = self.default_kind

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or self.default_kind
