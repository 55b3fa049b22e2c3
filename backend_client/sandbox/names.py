"""Russian personal names with correct gender forms of surnames and patronymics."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Male first name -> (son's patronymic, daughter's patronymic).
MALE_NAMES: dict[str, tuple[str, str]] = {
    "Александр": ("Александрович", "Александровна"),
    "Алексей": ("Алексеевич", "Алексеевна"),
    "Андрей": ("Андреевич", "Андреевна"),
    "Анатолий": ("Анатольевич", "Анатольевна"),
    "Артём": ("Артёмович", "Артёмовна"),
    "Борис": ("Борисович", "Борисовна"),
    "Валерий": ("Валерьевич", "Валерьевна"),
    "Василий": ("Васильевич", "Васильевна"),
    "Виктор": ("Викторович", "Викторовна"),
    "Владимир": ("Владимирович", "Владимировна"),
    "Геннадий": ("Геннадьевич", "Геннадьевна"),
    "Григорий": ("Григорьевич", "Григорьевна"),
    "Денис": ("Денисович", "Денисовна"),
    "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Евгений": ("Евгеньевич", "Евгеньевна"),
    "Егор": ("Егорович", "Егоровна"),
    "Иван": ("Иванович", "Ивановна"),
    "Игорь": ("Игоревич", "Игоревна"),
    "Илья": ("Ильич", "Ильинична"),
    "Кирилл": ("Кириллович", "Кирилловна"),
    "Константин": ("Константинович", "Константиновна"),
    "Лев": ("Львович", "Львовна"),
    "Максим": ("Максимович", "Максимовна"),
    "Михаил": ("Михайлович", "Михайловна"),
    "Никита": ("Никитич", "Никитична"),
    "Николай": ("Николаевич", "Николаевна"),
    "Олег": ("Олегович", "Олеговна"),
    "Павел": ("Павлович", "Павловна"),
    "Пётр": ("Петрович", "Петровна"),
    "Роман": ("Романович", "Романовна"),
    "Сергей": ("Сергеевич", "Сергеевна"),
    "Степан": ("Степанович", "Степановна"),
    "Юрий": ("Юрьевич", "Юрьевна"),
    "Ярослав": ("Ярославович", "Ярославовна"),
}

# Names by generation so a 80-year-old is not called "Милана".
MALE_OLD = ["Виктор", "Николай", "Владимир", "Анатолий", "Василий", "Геннадий", "Борис", "Юрий"]
MALE_MID = ["Сергей", "Андрей", "Алексей", "Дмитрий", "Игорь", "Олег", "Павел", "Евгений", "Роман"]
MALE_YOUNG = ["Артём", "Максим", "Иван", "Никита", "Егор", "Кирилл", "Михаил", "Лев", "Ярослав"]
FEMALE_OLD = ["Галина", "Валентина", "Людмила", "Тамара", "Нина", "Зинаида", "Раиса", "Лидия"]
FEMALE_MID = ["Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Марина", "Анна"]
FEMALE_YOUNG = ["Анастасия", "Мария", "Полина", "Дарья", "Софья", "Алиса", "Виктория", "Ева"]

# Surname stems with their male and female forms.
SURNAMES: list[tuple[str, str]] = [
    ("Иванов", "Иванова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Соколов", "Соколова"),
    ("Лебедев", "Лебедева"),
    ("Козлов", "Козлова"),
    ("Новиков", "Новикова"),
    ("Морозов", "Морозова"),
    ("Волков", "Волкова"),
    ("Алексеев", "Алексеева"),
    ("Фёдоров", "Фёдорова"),
    ("Михайлов", "Михайлова"),
    ("Беляев", "Беляева"),
    ("Тарасов", "Тарасова"),
    ("Белов", "Белова"),
    ("Комаров", "Комарова"),
    ("Орлов", "Орлова"),
    ("Киселёв", "Киселёва"),
    ("Макаров", "Макарова"),
    ("Зайцев", "Зайцева"),
    ("Соловьёв", "Соловьёва"),
    ("Ильин", "Ильина"),
    ("Никитин", "Никитина"),
    ("Галкин", "Галкина"),
    ("Сорокин", "Сорокина"),
    ("Калинин", "Калинина"),
    ("Ковальский", "Ковальская"),
    ("Полянский", "Полянская"),
    ("Островский", "Островская"),
    ("Вишневский", "Вишневская"),
    ("Жуковский", "Жуковская"),
    ("Толстой", "Толстая"),
    ("Шевченко", "Шевченко"),  # indeclinable: same for both
    ("Гордеев", "Гордеева"),
    ("Громов", "Громова"),
]


@dataclass(frozen=True)
class PersonName:
    last: str
    first: str
    middle: str
    sex: str  # "M" / "F"

    @property
    def full(self) -> str:
        return f"{self.last} {self.first} {self.middle}"

    @property
    def short(self) -> str:
        """ "Анна И." — what the bot shows after a policy match."""
        return f"{self.first} {self.last[0]}."

    @property
    def with_initials(self) -> str:
        """ "Иванова А. С." — how doctors are named on documents."""
        return f"{self.last} {self.first[0]}. {self.middle[0]}."


def surname_pair(rng: random.Random) -> tuple[str, str]:
    return rng.choice(SURNAMES)


def first_name(rng: random.Random, sex: str, birth_year: int) -> str:
    if sex == "M":
        pool = MALE_OLD if birth_year < 1960 else MALE_MID if birth_year < 1992 else MALE_YOUNG
    else:
        pool = (
            FEMALE_OLD if birth_year < 1960 else FEMALE_MID if birth_year < 1992 else FEMALE_YOUNG
        )
    return rng.choice(pool)


def patronymic(father_first: str, sex: str) -> str:
    son, daughter = MALE_NAMES[father_first]
    return son if sex == "M" else daughter


def father_name_for(rng: random.Random, child_birth_year: int) -> str:
    """A plausible father's first name for someone born in ``child_birth_year``."""
    return first_name(rng, "M", child_birth_year - 28)


def make_name(
    rng: random.Random,
    sex: str,
    birth_year: int,
    *,
    surname: tuple[str, str] | None = None,
    father_first: str | None = None,
    first: str | None = None,
) -> PersonName:
    male, female = surname or surname_pair(rng)
    father = father_first or father_name_for(rng, birth_year)
    return PersonName(
        last=male if sex == "M" else female,
        first=first or first_name(rng, sex, birth_year),
        middle=patronymic(father, sex),
        sex=sex,
    )
