from django import forms

from progression.models import User


class EmailForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class PasswordSignInForm(forms.Form):
    email = forms.EmailField(max_length=254)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class PersonForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=User.Role.choices)
    team = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    position = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    manager_email = forms.EmailField(max_length=254, required=False, label="Manager")

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "No team")] + [
            (team.pk, team.name) for team in teams
        ]
        self.fields["position"].choices = [("", "No position")] + [
            (team.name, [(p.pk, p.name) for p in team.positions.all()])
            for team in teams
            if team.positions.all()
        ]


class NameForm(forms.Form):
    name = forms.CharField(max_length=200)


class ArchiveForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False)
