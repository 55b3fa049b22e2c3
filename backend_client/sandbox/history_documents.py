"""Documents of the generated record: prescriptions, referrals, vaccinations, check-ups
(диспансеризация) and hospital discharges."""

from __future__ import annotations

from datetime import date, timedelta

from backend_client.models import Section
from backend_client.sandbox.catalog import CLINIC_BY_ID, SPECIALTY_BY_CODE
from backend_client.sandbox.clock import at_msk
from backend_client.sandbox.conditions import Condition, Drug
from backend_client.sandbox.history_base import HistoryBase
from backend_client.sandbox.history_drafts import (
    HOSPITALS,
    EntryDraft,
    ReferralDraft,
    fmt_date,
    fmt_num,
)


class DocumentsMixin(HistoryBase):
    def prescription(self, d: date, drug: Drug, spec: str) -> None:
        name, cid = self.staff.doctor(self.rng, self.clinic, spec)
        form = "148-1/у-04 (л)" if drug.preferential else "107-1/у"
        fields = [
            ("Препарат (МНН)", drug.inn),
            ("Лекарственная форма и дозировка", drug.form),
            ("Количество", drug.quantity),
            ("Способ применения", drug.sig),
            ("Форма бланка", form),
        ]
        if drug.preferential and drug.benefit:
            fields.append(("Льгота", drug.benefit))
        fields += [
            ("Срок действия", "90 дней" if drug.preferential else "60 дней"),
            (
                "Номер рецепта",
                f"45{self.rng.randint(10, 99)}-{d.year}/{self.rng.randint(1, 999999):06d}",
            ),
        ]
        title = f"Рецепт: {drug.inn}" + (" (льготный)" if drug.preferential else "")
        self.add(
            EntryDraft(
                self.new_id("e"),
                Section.PRESCRIPTIONS,
                title,
                d,
                self.moment(d),
                name,
                SPECIALTY_BY_CODE[spec].name,
                self.clinic_name(cid),
                fields,
            )
        )

    def referral(
        self, spec: str, d: date, c: Condition | None, *, used: bool, valid_days: int = 30
    ) -> ReferralDraft:
        name, cid = self.staff.doctor(
            self.rng, self.clinic, "therapist" if self.age(d) >= 18 else "pediatrician"
        )
        own = "c1" if self.clinic in ("c1", "c2") else self.clinic
        if self.age(d) < 18:
            target = "c4"
        elif self.staff.by_clinic_spec.get((own, spec)) and self.rng.random() < 0.6:
            target = own
        else:
            target = "c5"  # the diagnostic centre has every referral specialty
        diagnosis = f"{c.icd} {c.diagnosis}" if c else "Z00.0 Профилактическое обследование"
        entry = self.add(
            EntryDraft(
                self.new_id("e"),
                Section.REFERRALS,
                f"Направление: {SPECIALTY_BY_CODE[spec].name.lower()}",
                d,
                self.moment(d),
                name,
                "Терапевт" if self.age(d) >= 18 else "Педиатр",
                self.clinic_name(cid),
                [
                    ("Куда", f"{SPECIALTY_BY_CODE[spec].name}, консультация"),
                    ("Медицинская организация", CLINIC_BY_ID[target].name),
                    ("Обоснование", diagnosis),
                    ("Действительно до", fmt_date(d + timedelta(days=valid_days))),
                ],
            )
        )
        ref = ReferralDraft(
            self.new_id("r"),
            spec,
            d,
            d + timedelta(days=valid_days),
            name,
            target,
            diagnosis,
            entry.id,
        )
        if not used:
            self.referrals.append(ref)
        return ref

    def vaccination(self, d: date, infection: str, stage: str, vaccine: str) -> None:
        spec = "pediatrician" if self.age(d) < 18 else "therapist"
        name, cid = self.staff.doctor(self.rng, self.clinic, spec)
        prep, dose = vaccine.split(", ", 1)
        self.add(
            EntryDraft(
                self.new_id("e"),
                Section.VACCINATIONS,
                f"Вакцинация: {infection}",
                d,
                self.moment(d),
                name,
                SPECIALTY_BY_CODE[spec].name,
                self.clinic_name(cid) if d > self.p.birth + timedelta(days=7) else "Родильный дом",
                [
                    ("Инфекция", infection),
                    ("Этап", stage_text(stage)),
                    ("Препарат", prep),
                    (
                        "Серия",
                        f"{self.rng.randint(10, 99)}{self.rng.choice('АБВКМ')}{self.rng.randint(100, 999)}",
                    ),
                    ("Доза и способ введения", dose),
                    ("Реакция", "Нормальная, поствакцинальных осложнений нет"),
                ],
            )
        )

    def dispensary(self, d: date) -> None:
        age = self.age(d)
        name, cid = self.staff.doctor(
            self.rng, self.clinic, "therapist" if age >= 18 else "pediatrician"
        )
        if age < 18:
            fields = [
                ("Вид осмотра", "Профилактический медицинский осмотр несовершеннолетнего"),
                ("Возраст", f"{age} лет" if age >= 5 else f"{age} г."),
                ("Физическое развитие", "Нормальное, гармоничное"),
                ("Группа здоровья", self.rng.choice(["I", "II", "II"])),
                ("Медицинская группа для занятий физкультурой", "Основная"),
                ("Рекомендации", "Режим дня, рациональное питание, прививки по календарю."),
            ]
            title = "Профилактический осмотр несовершеннолетнего"
        else:
            chronic = [k for k in self.p.conditions if self.active(k, d)]
            group = "IIIа" if chronic else self.rng.choice(["I", "II"])
            risk = (
                "высокий"
                if ("htn" in chronic or "chd" in chronic)
                else "умеренный"
                if age >= 40
                else "низкий"
            )
            glu = self.means(d).get("GLU", 5.0)
            chol = self.means(d).get("CHOL", 4.8)
            fields = [
                ("Вид", "Диспансеризация, I этап" if age >= 18 else "Профосмотр"),
                (
                    "Антропометрия",
                    f"Рост {self.p.height} см, масса {self.p.weight} кг, окружность талии {self.rng.randint(70, 104)} см",
                ),
                ("Глюкоза крови (экспресс)", f"{fmt_num(self.rng.gauss(glu, 0.3))} ммоль/л"),
                ("Общий холестерин (экспресс)", f"{fmt_num(self.rng.gauss(chol, 0.3))} ммоль/л"),
                ("Сердечно-сосудистый риск (SCORE2)", risk),
                ("Курение", "да" if self.p.smoker else "нет"),
                ("Группа здоровья", group),
                (
                    "Заключение",
                    "Выявлены хронические неинфекционные заболевания, требующие диспансерного "
                    "наблюдения."
                    if chronic
                    else "Хронических неинфекционных заболеваний не выявлено.",
                ),
                (
                    "Рекомендации",
                    "Отказ от курения, физическая активность не менее 150 минут в неделю, "
                    "ограничение соли и сахара."
                    if self.p.smoker
                    else "Физическая активность не менее 150 минут в неделю, "
                    "рациональное питание, ограничение соли.",
                ),
            ]
            title = "Диспансеризация взрослого населения"
        self.add(
            EntryDraft(
                self.new_id("e"),
                Section.DISPENSARY,
                title,
                d,
                self.moment(d),
                name,
                SPECIALTY_BY_CODE["therapist" if age >= 18 else "pediatrician"].name,
                self.clinic_name(cid),
                fields,
            )
        )

    def discharge(self, d: date, key: str) -> None:
        r = self.rng
        days = r.randint(6, 11)
        out = d + timedelta(days=days)
        if key == "chd":
            dept, diag, treat, results = (
                "Кардиологическое отделение",
                "I20.0 Нестабильная стенокардия. Фон: ИБС, гипертоническая болезнь III стадии",
                "Эноксапарин натрия, ацетилсалициловая кислота, клопидогрел, аторвастатин 80 мг, "
                "бисопролол. Выполнена коронароангиография: стеноз передней нисходящей артерии "
                "75 %, стентирование с имплантацией 1 стента с лекарственным покрытием.",
                "Тропонин I — отрицательный двукратно. ЭхоКГ: ФВ 55 %, гипокинеза нет.",
            )
        else:
            dept, diag, treat, results = (
                "Пульмонологическое отделение",
                "J18.1 Внебольничная долевая пневмония нижней доли правого лёгкого, нетяжёлая. "
                "Фон: ХОБЛ",
                "Цефтриаксон 2 г в/в 7 дней, азитромицин 500 мг 3 дня, ингаляции беродуала, "
                "дыхательная гимнастика.",
                "Рентгенография ОГК при выписке: положительная динамика, инфильтрация "
                "разрешается. SpO2 при выписке 96 %.",
            )
        self.add(
            EntryDraft(
                self.new_id("e"),
                Section.DISCHARGES,
                f"Выписной эпикриз: {dept.lower()}",
                out,
                at_msk(out, 13, 0),
                r.choice(self.staff.hospital_doctors),
                "Лечащий врач стационара",
                r.choice(HOSPITALS),
                [
                    ("Отделение", dept),
                    ("Период госпитализации", f"{fmt_date(d)} — {fmt_date(out)} ({days} к/дн.)"),
                    ("Вид госпитализации", "экстренная"),
                    ("Диагноз основной", diag),
                    ("Проведённое лечение", treat),
                    ("Результаты обследования", results),
                    (
                        "Состояние при выписке",
                        "Удовлетворительное. Выписан"
                        + ("а" if self.p.sex == "F" else "")
                        + " на амбулаторное лечение.",
                    ),
                    (
                        "Рекомендации",
                        "Наблюдение терапевта и кардиолога по месту жительства; двойная "
                        "антитромбоцитарная терапия 12 месяцев; контроль липидограммы через 6 недель."
                        if key == "chd"
                        else "Наблюдение терапевта, контрольная рентгенография через 4 недели, "
                        "вакцинация против пневмококковой инфекции.",
                    ),
                ],
            )
        )


def stage_text(code: str) -> str:
    """A vaccination stage as a record shows it to the patient: «Вакцинация (2-я)» for V2,
    «Ревакцинация» for RV, «Ревакцинация (3-я)» for RV3 (the calendar's codes stay in the
    seed, where a clinician reads them)."""
    kind = "Ревакцинация" if code.startswith("RV") else "Вакцинация"
    number = code.lstrip("RV")
    return f"{kind} ({number}-я)" if number else kind
