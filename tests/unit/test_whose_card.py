from __future__ import annotations

from backend_client.models import Relation, Scope
from bot.services.people import Person, whose_card

ME = Person(1, "Анна С.", Relation.SELF, Scope.RECORDS, None)
MUM = Person(2, "Мама", Relation.RELATIVE, Scope.APPOINTMENTS, None)
SON = Person(3, "Егор", Relation.CHILD, Scope.RECORDS, None)


def test_one_person_is_chosen_without_asking() -> None:
    assert whose_card([ME], None, Scope.RECORDS).chosen == ME


def test_several_people_are_offered_until_one_is_chosen() -> None:
    choice = whose_card([ME, MUM, SON], None, Scope.APPOINTMENTS)
    assert choice.chosen is None and choice.choices == [ME, MUM, SON]
    assert whose_card([ME, MUM, SON], 2, Scope.APPOINTMENTS).chosen == MUM


def test_people_without_the_needed_scope_are_not_offered() -> None:
    choice = whose_card([ME, MUM, SON], 2, Scope.RECORDS)
    # Mum gave appointments only: remembered or not, her record is not offered.
    assert choice.chosen is None and choice.choices == [ME, SON]
    assert whose_card([MUM], None, Scope.RECORDS).choices == []


def test_a_forged_remembered_id_is_ignored() -> None:
    assert whose_card([ME, MUM], 999, Scope.APPOINTMENTS).chosen is None
