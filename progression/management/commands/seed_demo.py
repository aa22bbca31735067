import random

from django.db import transaction

from progression.management.base import OperatorCommand
from progression.models import Organization, User
from progression.services.organizations import organization_create
from progression.services.people import user_create
from progression.services.teams import position_create, team_create

DEMO_SLUG = "acme"
DEMO_ADMIN = "admin@acme.example"
DEMO_PASSWORD = "progression-demo"  # noqa: S105 - the demo's published password
TEAMS = {
    "Engineering": ["Engineering Manager", "Senior Engineer", "Engineer"],
    "Product": ["Head of Product", "Product Manager", "Designer"],
    "Sales": ["Sales Director", "Account Executive", "Sales Development Rep"],
    "People": ["People Partner", "Recruiter"],
}
FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "Donald",
    "Sophie",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Knuth",
    "Wilson",
]


class Command(OperatorCommand):
    help = "Create the demo organisation with an admin, teams and people (once)."

    def run(self, **options):
        existing = Organization.objects.filter(slug=DEMO_SLUG).first()
        if existing is not None:
            return self._summary(existing, created=False)
        rng = random.Random(7)  # noqa: S311 - repeatable demo data, not secrets

        with transaction.atomic():
            organization = organization_create(
                name="Acme Robotics", slug=DEMO_SLUG, domains=["acme.example"]
            )
            user_create(
                organization=organization,
                email=DEMO_ADMIN,
                first_name="Avery",
                last_name="Admin",
                role=User.Role.ADMIN,
                password=DEMO_PASSWORD,
                actor="operator",
            )
            for team_name, position_names in TEAMS.items():
                team = team_create(
                    organization=organization, name=team_name, actor="operator"
                )
                positions = [
                    position_create(team=team, name=name, actor="operator")
                    for name in position_names
                ]
                lead = None
                for index in range(6):
                    first, last = rng.choice(FIRST), rng.choice(LAST)
                    person = user_create(
                        organization=organization,
                        email=f"{first}.{last}.{team_name}{index}@acme.example".lower(),
                        first_name=first,
                        last_name=last,
                        team=team,
                        position=positions[0]
                        if index == 0
                        else rng.choice(positions[1:]),
                        manager=lead,
                        actor="operator",
                    )
                    lead = lead or person
        return self._summary(organization, created=True)

    def _summary(self, organization, *, created):
        data = {
            "slug": organization.slug,
            "admin_email": DEMO_ADMIN,
            "admin_password": DEMO_PASSWORD,
            "created": created,
        }
        verb = "Created" if created else "Found"
        return (
            f"{verb} the demo organisation {organization.name}: sign in as "
            f"{DEMO_ADMIN} with the password {DEMO_PASSWORD}",
            data,
        )
