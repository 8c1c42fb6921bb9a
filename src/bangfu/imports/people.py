"""Staff members named in a file (a helper, the person who did the work), found by name, user name or staff
number among the staff the importing user may name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.utils.translation import gettext as _

from bangfu.imports.normalise import Invalid, code, key, name, text
from bangfu.organisation.models import User


class Staff:
    def __init__(self, users: Iterable[User]) -> None:
        self._by_word: dict[str, list[User]] = defaultdict(list)
        for user in users:
            words = {key(name(user.full_name)), key(user.username), key(code(user.staff_number))}
            for word in words - {""}:
                self._by_word[word].append(user)

    def find(self, raw: object) -> User:
        word = key(name(raw))
        found = list({u.pk: u for u in self._by_word.get(word, [])}.values())
        if len(found) > 1:
            raise Invalid(
                _("Several staff members are called “%(name)s”: write the staff number or user name instead.")
                % {"name": text(raw)}
            )
        if not found:
            raise Invalid(
                _("“%(name)s” is not a staff member of this school whom you may name here.") % {"name": text(raw)}
            )
        return found[0]
