import csv

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models.functions import Lower, Trim

from progression.management.base import OperatorCommand
from progression.models import Position, Team
from progression.services.teams import position_create, team_create

MAX_ROWS = 10_000


class Command(OperatorCommand):
    help = "Import teams and positions from a CSV file with columns team,position."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("slug")
        parser.add_argument("--file", required=True)

    def run(self, *, slug, file, **options):
        organization = self.organization(slug)
        rows = self._read(file)

        created_teams, created_positions = [], []
        with transaction.atomic():
            teams = {
                team.key: team
                for team in Team.objects.filter(organization=organization).annotate(
                    key=Lower(Trim("name"))
                )
            }
            positions = set(
                Position.objects.filter(team__organization=organization)
                .annotate(key=Lower(Trim("name")))
                .values_list("team_id", "key")
            )
            for team_name, position_name in rows:
                team = teams.get(team_name.lower())
                if team is None:
                    team = team_create(
                        organization=organization, name=team_name, actor="operator"
                    )
                    teams[team_name.lower()] = team
                    created_teams.append(team.name)
                if not position_name:
                    continue
                if (team.pk, position_name.lower()) in positions:
                    continue
                position_create(team=team, name=position_name, actor="operator")
                positions.add((team.pk, position_name.lower()))
                created_positions.append(f"{team.name} / {position_name}")

        data = {
            "rows": len(rows),
            "teams_created": created_teams,
            "positions_created": created_positions,
        }
        summary = (
            f"Read {len(rows)} rows: created {len(created_teams)} teams and "
            f"{len(created_positions)} positions; the rest already existed."
        )
        return summary, data

    def _read(self, path: str) -> list[tuple[str, str]]:
        """Read and check the whole file before anything is written."""
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                if reader.fieldnames is None or "team" not in reader.fieldnames:
                    raise CommandError(
                        f"{path}: the first line must name the columns team,position."
                    )
                rows = []
                for number, row in enumerate(reader, start=2):
                    if number > MAX_ROWS + 1:
                        raise CommandError(f"{path}: more than {MAX_ROWS} rows.")
                    team = " ".join((row.get("team") or "").split())
                    position = " ".join((row.get("position") or "").split())
                    if not team:
                        raise CommandError(f"{path}, line {number}: the team is empty.")
                    rows.append((team, position))
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path}: not UTF-8 text.") from None
        except csv.Error as exc:
            raise CommandError(f"{path}: not a valid CSV file ({exc}).") from None
        return rows
