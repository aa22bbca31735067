"""The fake HR systems the sync benchmark can serve, filled and changed alike.

Each provider here builds the test suite's own fake (`tests/peers/hris/`) with
the same generated company: people with a work email, a department and a
manager (a tree of eight reports each). It says which credentials and
options a directory of it needs, and changes one person in one of four ways
(renamed, new work email, terminated, moved to another department), each in
that provider's own shape, so a re-sync sees what the real API would show.
"""

import random

from people_data import FIRST_NAMES, SURNAMES

DEPARTMENTS = 40
MOVED = "Department moved"
KINDS = ("renamed", "email", "terminated", "moved")


def people(size: int, seed: int, domain: str) -> list[dict]:
    """The company, in no provider's shape."""
    rng = random.Random(seed)
    found = []
    for index in range(size):
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        found.append(
            {
                "index": index,
                "first": first,
                "last": last,
                "email": f"{first}.{last}.{index}@{domain}".lower(),
                "department": f"Department {rng.randrange(DEPARTMENTS)}",
                "manager": (index - 1) // 8 if index else None,
            }
        )
    return found


class Gusto:
    name = "gusto"

    def build(self, company: list[dict]):
        from tests.peers.hris.gusto import FakeGusto, employee

        fake = FakeGusto()
        for person in company:
            record = employee(
                person["first"],
                person["last"],
                uuid=_uuid(person["index"]),
                department=person["department"],
                jobs=[{"title": "Engineer", "primary": True}],
            )
            record["work_email"] = person["email"]
            record["email"] = person["email"].replace("@", ".home@")
            if person["manager"] is not None:
                record["manager_uuid"] = _uuid(person["manager"])
            fake.add(record)
        return fake

    def credentials(self, fake) -> dict:
        return {
            "company_uuid": fake.company_uuid,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            **fake.issue(),
        }

    def sync_groups(self, fake) -> list[dict]:
        return []

    def change(self, fake, index: int, kind: str) -> None:
        person = fake.employees[index]
        if kind == "renamed":
            person["first_name"] += "x"
        elif kind == "email":
            person["work_email"] = person["work_email"].replace("@", ".new@")
        elif kind == "terminated":
            person["terminated"] = True
            person["terminations"] = [{"effective_date": "2024-01-31"}]
        else:
            person["department"] = MOVED


class HiBob:
    name = "hibob"

    def build(self, company: list[dict]):
        from tests.peers.hris.hibob import FakeHiBob, employee

        fake = FakeHiBob()
        departments = {}
        for number in range(DEPARTMENTS):
            name = f"Department {number}"
            departments[name] = fake.list_item("department", f"d{number}", name)
        fake.list_item("department", "moved", MOVED)
        fake.list_item("title", "engineer", "Engineer")
        for person in company:
            record = employee(
                person["index"] + 1,
                person["first"],
                person["last"],
                email=person["email"],
                work__department=departments[person["department"]],
                work__title="engineer",
            )
            if person["manager"] is not None:
                manager = company[person["manager"]]
                record["work.reportsTo"] = {
                    "id": str(manager["index"] + 1),
                    "email": manager["email"],
                }
            fake.add(record)
        return fake

    def credentials(self, fake) -> dict:
        return {"service_user_id": fake.service_user_id, "token": fake.token}

    def sync_groups(self, fake) -> list[dict]:
        return []

    def change(self, fake, index: int, kind: str) -> None:
        person = fake.employees[index]
        if kind == "renamed":
            person["root.firstName"] += "x"
        elif kind == "email":
            person["root.email"] = person["root.email"].replace("@", ".new@")
        elif kind == "terminated":
            person["internal.status"] = "Inactive"
            person["internal.terminationDate"] = "2024-01-31"
        else:
            person["work.department"] = "moved"


class GoogleWorkspace:
    """Everyone in one chosen group, as a company syncing all staff would be."""

    name = "google-workspace"
    group = {"id": "g-staff", "email": "staff@bench.example", "name": "Staff"}

    def build(self, company: list[dict]):
        from tests.peers.hris.google import FakeGoogle, user

        fake = FakeGoogle()
        for person in company:
            record = user(
                str(person["index"] + 1),
                person["first"],
                person["last"],
                email=person["email"],
                organizations=[
                    {
                        "primary": True,
                        "department": person["department"],
                        "title": "Engineer",
                    }
                ],
            )
            if person["manager"] is not None:
                manager = company[person["manager"]]
                record["relations"] = [{"type": "manager", "value": manager["email"]}]
            fake.add_users(record)
        fake.add_group(
            self.group["id"],
            self.group["email"],
            self.group["name"],
            [("USER", str(person["index"] + 1)) for person in company],
        )
        return fake

    def credentials(self, fake) -> dict:
        return fake.oauth_client()

    def sync_groups(self, fake) -> list[dict]:
        return [self.group]

    def change(self, fake, index: int, kind: str) -> None:
        person = fake.users[index]
        if kind == "renamed":
            person["name"]["givenName"] += "x"
        elif kind == "email":
            person["primaryEmail"] = person["primaryEmail"].replace("@", ".new@")
        elif kind == "terminated":
            person["suspended"] = True
        else:
            person["organizations"][0]["department"] = MOVED


PROVIDERS = {p.name: p for p in (Gusto(), HiBob(), GoogleWorkspace())}


def mutate(provider, fake, size: int, share: float, seed: int) -> dict:
    """Change `share` of the people, a quarter each way; how many of each."""
    rng = random.Random(seed + 1)
    chosen = rng.sample(range(1, size), int(size * share))
    counts = dict.fromkeys(KINDS, 0)
    for n, index in enumerate(chosen):
        kind = KINDS[n % len(KINDS)]
        counts[kind] += 1
        provider.change(fake, index, kind)
    return counts


def _uuid(index: int) -> str:
    return f"00000000-0000-4000-8000-{index:012d}"
