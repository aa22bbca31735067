from django.db import transaction

from progression.management.base import OperatorCommand
from progression.models import User
from progression.services.organizations import organization_create
from progression.services.people import user_create


class Command(OperatorCommand):
    help = "Create an organisation, its first admin and its email domains."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("name")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument(
            "--admin-password",
            help="without it the admin has no password and signs in through SSO",
        )
        parser.add_argument("--slug", default="")
        parser.add_argument("--domain", action="append", default=[], dest="domains")

    def run(self, *, name, admin_email, admin_password, slug, domains, **options):
        with transaction.atomic():
            organization = organization_create(
                name=name, slug=slug, domains=domains, actor="operator"
            )
            admin = user_create(
                organization=organization,
                email=admin_email,
                role=User.Role.ADMIN,
                password=admin_password,
                actor="operator",
            )
        data = {
            "id": organization.pk,
            "name": organization.name,
            "slug": organization.slug,
            "domains": [d.domain for d in organization.domains.all()],
            "admin": {"id": admin.pk, "email": admin.email},
        }
        summary = (
            f"Created organisation {organization.name} (slug {organization.slug}) "
            f"with admin {admin.email}."
        )
        return summary, data
