from django import forms
from django.utils.translation import gettext_lazy as _

from bangfu.notifications.models import DigestFrequency


class PreferenceForm(forms.Form):
    digest = forms.ChoiceField(
        label=_("E-mail digest"),
        choices=DigestFrequency.choices,
        widget=forms.RadioSelect,
        help_text=_("In-app notifications arrive every day whatever you choose here."),
    )
