#!/usr/bin/env python3
"""bench/workload.py - a deterministic workload of a programme's offices.

    python3 bench/workload.py --seed 1 --offices 6 --scale 1.0 --out DIR

Writes, for offices ISF (Isfana), KOC (Kochkor), O03, O04, ... and the
central office CEN, what their staff would type over a few weeks, as SQL
for the sqlite3 shell and as JSON lines (the baseline encoding).  Python 3
standard library only; the same arguments always give byte-identical files
(its own splitmix64 generator, not `random`, so Python versions agree).

  DIR/<OFFICE>/initial.sql  an office's first weeks: its office row,
                            authorities, CIGs, persons, vulnerabilities,
                            memberships, needs, plans, actions, letters,
                            letter versions (300-2,000 characters of
                            Russian or Kyrgyz prose), reviews, responses,
                            outcomes, events, attendance, comments
  DIR/<OFFICE>/edit.sql     its next weeks: field edits of its own records
                            (statuses, dates, phones, completed flags, ...),
                            new records (new letter versions, reviews,
                            persons, events, ...), deletes of leaf records
                            (attendance, membership)
  DIR/CEN/edit.sql          the central office's edits of the offices'
                            records in the same weeks; about a third of them
                            set the same field of the same row as the
                            office's own edit phase (concurrent edits, which
                            the merge resolves), plus a few deletes
  DIR/initial.jsonl         the same operations as JSON lines, one per
  DIR/edit.jsonl            operation (insert: the whole row; update: one
                            field; delete), with "by" (node name) and "at"
                            (ms, a deterministic clock)
  DIR/summary.json          counts per office and phase

Each .sql file is one `BEGIN; ... COMMIT;` for `sqlite3 NODE/replica.db <
FILE`, at the node of that office (CEN/edit.sql at a central node).  Row ids
are UUIDv7 text as cigsync makes them (common/id.c: version 7, variant
8/9/a/b, lowercase), with the timestamp of the deterministic clock.  Every
value respects the CHECKs of common/schema.sql; every reference (cig_id,
person_id, ...) names a row of the same office that exists when it is
written and is never deleted (only attendance and membership rows, which
nothing references, are deleted).  At --scale 1.0 an office has about 860
records, 980 field edits, 85 new records and 17 deletes; central makes
about 100 field edits (a third concurrent) and 2 deletes per office.
"""

import argparse
import datetime
import hashlib
import json
import os
import sys

MASK64 = (1 << 64) - 1


class Rng:
    """splitmix64 (Steele, Lea, Flood 2014): small, fully determined by its
    seed, identical on every Python version."""

    def __init__(self, *parts):
        digest = hashlib.sha256(repr(parts).encode()).digest()
        self.state = int.from_bytes(digest[:8], "little")

    def u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        """0 <= x < n, without modulo bias."""
        assert n > 0
        limit = MASK64 - (MASK64 + 1) % n
        while True:
            x = self.u64()
            if x <= limit:
                return x % n

    def between(self, lo, hi):
        return lo + self.below(hi - lo + 1)

    def chance(self, p):
        return (self.u64() >> 11) < int(p * (1 << 53))

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def weighted(self, pairs):
        total = sum(w for _, w in pairs)
        x = (self.u64() >> 11) * total / (1 << 53)
        for item, w in pairs:
            if x < w:
                return item
            x -= w
        return pairs[-1][0]

    def shuffle(self, lst):
        for i in range(len(lst) - 1, 0, -1):
            j = self.below(i + 1)
            lst[i], lst[j] = lst[j], lst[i]
        return lst

    def sample(self, seq, k):
        lst = list(seq)
        k = min(k, len(lst))
        for i in range(k):
            j = i + self.below(len(lst) - i)
            lst[i], lst[j] = lst[j], lst[i]
        return lst[:k]


# ---- the programme's vocabulary ---------------------------------------------

MALE = ["Азамат", "Бакыт", "Нурлан", "Эрлан", "Талант", "Улан", "Жоомарт",
        "Нурбек", "Эрмек", "Канат", "Адилет", "Бекболот", "Мирлан", "Руслан",
        "Темирлан", "Айбек", "Алмаз", "Данияр", "Мелис", "Самат",
        "Кубанычбек", "Марат", "Асылбек", "Бактыбек", "Жыргалбек", "Исмаил",
        "Кайрат", "Төлөн", "Үсөн", "Жениш", "Максат", "Омурбек", "Тилек",
        "Чынгыз", "Элдияр"]
FEMALE = ["Гүлмира", "Айгүл", "Жылдыз", "Чолпон", "Мээрим", "Айгерим",
          "Назира", "Бурул", "Динара", "Асель", "Нургүл", "Айпери", "Бегимай",
          "Каныкей", "Гүлнара", "Зарина", "Элмира", "Айзада", "Саадат",
          "Жаңыл", "Акылай", "Толгонай", "Айнура", "Гүлзат", "Бактыгүл",
          "Нуриза", "Чынара", "Шааркүл", "Рахат", "Венера", "Самара",
          "Урмат", "Эркайым", "Аида", "Калыйча"]
UZ_MALE = ["Рустам", "Фарход", "Шерзод", "Бахтиёр", "Дилшод", "Улугбек",
           "Икром", "Жасур"]
UZ_FEMALE = ["Дилноза", "Мохира", "Гулчехра", "Зулфия", "Нилуфар", "Мафтуна",
             "Шахноза", "Феруза"]
RU_MALE = ["Александр", "Сергей", "Владимир", "Николай", "Дмитрий", "Андрей"]
RU_FEMALE = ["Ольга", "Наталья", "Елена", "Татьяна", "Светлана", "Ирина"]
FAMILY = ["Абдыкадыров", "Токтосунов", "Жумабаев", "Исмаилов", "Мамытов",
          "Осмонов", "Сыдыков", "Бакиров", "Алиев", "Эсенгулов", "Токтогулов",
          "Садыков", "Асанов", "Усенов", "Кадыров", "Мамбетов", "Жээнбеков",
          "Бейшеналиев", "Турдубаев", "Сатыбалдиев", "Омурбеков", "Кочкоров",
          "Джумалиев", "Ниязов", "Рысбеков", "Эркинбаев", "Абдраимов",
          "Шаршенов", "Калыков", "Дүйшөнбиев", "Сулайманов", "Мырзакматов",
          "Орозбаев", "Таштанов", "Керимбеков", "Момунов", "Сагынбаев",
          "Бообеков", "Чолпонкулов", "Үсөнбаев"]
UZ_FAMILY = ["Юсупов", "Рахимов", "Каримов", "Назаров", "Хамидов", "Мирзаев",
             "Турсунов", "Абдуллаев"]
RU_FAMILY = ["Иванов", "Петров", "Ковалёв", "Соколов", "Кузнецов", "Волков"]
PREFIXES = ["555", "557", "559", "700", "702", "705", "707", "709", "770",
            "772", "773", "775", "777", "220", "221", "222", "990", "995",
            "997", "999", "500", "550"]
STREETS = ["Ленина", "Манаса", "Токтогула", "Айтматова", "Жибек Жолу",
           "Школьная", "Садовая", "Мира", "Фрунзе", "Курманжан Датка",
           "Молодёжная", "Набережная", "Орозбекова", "Победы", "Советская",
           "Баатыра", "Ала-Тоо"]

# code, name_ru, name_ky, name_en, oblast, rayon, settlements, minority
PLACES = [
    ("ISF", "Исфанинский офис", "Исфана кеңсеси", "Isfana office",
     "Баткенская", "Лейлекский",
     ["Исфана", "Катран", "Кулунду", "Ак-Терек", "Андарак", "Сүмбүлө"], 0.35),
    ("KOC", "Кочкорский офис", "Кочкор кеңсеси", "Kochkor office",
     "Нарынская", "Кочкорский",
     ["Кочкор", "Кара-Суу", "Семиз-Бел", "Кум-Дөбө", "Талаа-Булак",
      "Төлөк", "Сары-Булак"], 0.02),
    (None, "Ат-Башинский офис", "Ат-Башы кеңсеси", "At-Bashy office",
     "Нарынская", "Ат-Башинский",
     ["Ат-Башы", "Кара-Коюн", "Ак-Муз", "Базар-Турук", "Талды-Суу"], 0.02),
    (None, "Кара-Суйский офис", "Кара-Суу кеңсеси", "Kara-Suu office",
     "Ошская", "Кара-Суйский",
     ["Кара-Суу", "Папан", "Нариман", "Жоош", "Кызыл-Кыштак"], 0.4),
    (None, "Тонский офис", "Тоң кеңсеси", "Ton office",
     "Иссык-Кульская", "Тонский",
     ["Бөкөнбаев", "Кажы-Сай", "Ак-Сай", "Тоң", "Ак-Талаа"], 0.05),
    (None, "Таласский офис", "Талас кеңсеси", "Talas office",
     "Таласская", "Кара-Бууринский",
     ["Кызыл-Адыр", "Сасык-Булак", "Чолок-Кайың", "Ак-Чий"], 0.05),
    (None, "Аксыйский офис", "Аксы кеңсеси", "Aksy office",
     "Джалал-Абадская", "Аксыйский",
     ["Кербен", "Кара-Жыгач", "Ак-Суу", "Жаңы-Жол"], 0.1),
    (None, "Кеминский офис", "Кемин кеңсеси", "Kemin office",
     "Чуйская", "Кеминский",
     ["Кемин", "Боролдой", "Ак-Түз", "Жаңы-Алыш"], 0.15),
    (None, "Ноокатский офис", "Ноокат кеңсеси", "Nookat office",
     "Ошская", "Ноокатский",
     ["Ноокат", "Кара-Таш", "Жаңы-Ноокат", "Кыргыз-Ата"], 0.3),
    (None, "Бакай-Атинский офис", "Бакай-Ата кеңсеси", "Bakai-Ata office",
     "Таласская", "Бакай-Атинский",
     ["Бакай-Ата", "Боо-Терек", "Кызыл-Туу", "Ак-Дөбө"], 0.03),
]

CIG_NAMES = ["Жаштар демилгеси", "Аялдар кеңеши", "Таза суу", "Жашыл айыл",
             "Ынтымак", "Келечек", "Достук", "Береке", "Нур", "Мекеним",
             "Бирге", "Үмүт", "Ак-Булак", "Чистая вода", "Безопасная дорога",
             "Светлая улица", "Наш двор", "Эне-Жер", "Жаңы-Доор", "Агым",
             "Элдик демилге", "Сугат", "Балдар үчүн", "Ден-соолук"]
FOCUS = ["питьевая вода", "ремонт дороги и уличное освещение",
         "мектептин чатырын оңдоо", "детский сад", "спортивная площадка",
         "сугат суусу", "вывоз мусора", "медпункт (ФАП)", "көпүрө куруу",
         "интернет в школе", "доступная среда для людей с инвалидностью",
         "жаштардын бош убактысы", "права женщин и участие в МСУ",
         "көчөлөрдү жарыктандыруу", "ремонт клуба"]

# (Russian, Kyrgyz, sector): a need as the CIGs word it
NEEDS = [
    ("ремонт водопровода", "суу түтүгүн оңдоо", "water"),
    ("строительство моста через арык", "арыктын үстүнөн көпүрө куруу",
     "roads"),
    ("освещение улицы {street}", "{street} көчөсүн жарыктандыруу",
     "lighting"),
    ("ремонт кровли школы № {k}", "№ {k} мектептин чатырын оңдоо",
     "schools"),
    ("вывоз бытовых отходов", "турмуш-тиричилик таштандыларын чыгаруу",
     "waste"),
    ("ремонт дороги к медпункту", "ФАПка барчу жолду оңдоо", "roads"),
    ("открытие группы детского сада", "балдар бакчасында кошумча топ ачуу",
     "kindergarten"),
    ("очистка оросительного канала", "сугат каналын тазалоо", "irrigation"),
    ("установка детской площадки", "балдар аянтчасын орнотуу", "sport"),
    ("обеспечение питьевой водой", "таза ичүүчү суу менен камсыз кылуу",
     "water"),
    ("ремонт спортзала школы № {k}", "№ {k} мектептин спорт залын оңдоо",
     "schools"),
    ("подключение школы к интернету", "мектепти интернетке туташтыруу",
     "schools"),
    ("пандус у здания айыл окмоту",
     "айыл өкмөтүнүн имаратына пандус орнотуу", "accessibility"),
    ("остановка общественного транспорта", "коомдук транспорттун аялдамасы",
     "transport"),
]
NEED_METHODS = ["workshop", "survey", "community meeting", "собрание жителей",
                "фокус-группа", "подворный обход", "жалпы чогулуш"]

RU_SENTENCES = [
    "Инициативная группа «{cig}» создана в {year} году и объединяет {m} "
    "жителей с. {s}.",
    "На общем собрании жителей {date} был проведён опрос, в котором приняли "
    "участие {n} человек.",
    "По итогам голосования первоочередной проблемой был назван вопрос "
    "«{need}» ({votes} голосов).",
    "В настоящее время эта проблема затрагивает около {n} домохозяйств, в том "
    "числе семьи с маленькими детьми и пожилых людей.",
    "Жители неоднократно обращались в айыл окмоту устно, однако вопрос до "
    "сих пор не решён.",
    "По нашим подсчётам, стоимость работ составляет примерно {sum} сомов.",
    "Инициативная группа готова организовать ашар и обеспечить участие "
    "жителей в работах.",
    "Часть средств ({part} сомов) жители готовы собрать самостоятельно.",
    "Просим включить вопрос «{need}» в план социально-экономического "
    "развития на {year2} год.",
    "Просим рассмотреть возможность выделения средств из местного бюджета на "
    "{year2} год.",
    "Также просим рассмотреть наше обращение на ближайшей сессии айылного "
    "кенеша.",
    "К письму прилагаются список подписей жителей ({k} подписей), фотографии "
    "и смета.",
    "Согласно Закону Кыргызской Республики «О порядке рассмотрения обращений "
    "граждан» просим дать письменный ответ в установленный срок.",
    "Особенно тяжело положение в зимний период, когда дети вынуждены ходить в "
    "школу по тёмной улице.",
    "Вода из арыка используется для питья, что создаёт угрозу здоровью "
    "детей.",
    "Члены группы прошли обучение по адвокации на уровне сообщества и готовы "
    "участвовать в общественных слушаниях.",
    "Мы предлагаем провести встречу с участием депутатов айылного кенеша и "
    "жителей улицы {street}.",
    "В прошлом году похожая проблема была успешно решена в соседнем селе "
    "{s2}.",
    "Ответственным за связь с айыл окмоту назначен секретарь группы "
    "{secretary}, тел. {phone}.",
    "Надеемся на Ваше понимание и поддержку.",
    "Мониторинг выполнения работ группа готова проводить совместно с "
    "сотрудниками айыл окмоту.",
    "На улице {street} проживает {n} семей, из них {k} многодетных.",
    "Школа № {school} рассчитана на {cap} учеников, а обучается в ней более "
    "{n2} детей.",
    "Предварительная смета подготовлена при помощи специалиста районного "
    "управления строительства.",
    "Жители улицы {street} готовы предоставить транспорт и материалы на "
    "сумму {part} сомов.",
]
KY_SENTENCES = [
    "«{cig}» демилгелүү тобу {year}-жылы түзүлгөн жана {s} айылынын {m} "
    "тургунун бириктирет.",
    "{date} өткөн тургундардын жалпы чогулушунда {n} адам сурамжылоого "
    "катышты.",
    "Добуш берүүнүн жыйынтыгында эң биринчи көйгөй катары «{need}» маселеси "
    "аныкталды ({votes} добуш).",
    "Азыркы учурда бул көйгөй болжол менен {n} үй-бүлөгө тиешелүү, алардын "
    "ичинде кичинекей балдары бар үй-бүлөлөр жана карылар бар.",
    "Тургундар айыл өкмөтүнө бир нече жолу оозеки кайрылышкан, бирок маселе "
    "азыркыга чейин чечиле элек.",
    "Биздин эсебибиз боюнча иштин баасы болжол менен {sum} сомду түзөт.",
    "Демилгелүү топ ашар уюштурууга жана тургундардын катышуусун камсыз "
    "кылууга даяр.",
    "Каражаттын бир бөлүгүн ({part} сом) тургундар өздөрү чогултууга даяр.",
    "«{need}» маселесин {year2}-жылга социалдык-экономикалык өнүктүрүү "
    "планына киргизүүнү суранабыз.",
    "Жергиликтүү бюджеттен {year2}-жылга каражат бөлүү мүмкүнчүлүгүн кароону "
    "суранабыз.",
    "Ошондой эле кайрылуубузду айылдык кеңештин жакынкы сессиясында кароону "
    "суранабыз.",
    "Катка тургундардын колу коюлган тизме ({k} кол), сүрөттөр жана смета "
    "тиркелет.",
    "Кыргыз Республикасынын «Жарандардын кайрылууларын кароонун тартиби "
    "жөнүндө» Мыйзамына ылайык белгиленген мөөнөттө жазуу жүзүндө жооп "
    "берүүңүздү суранабыз.",
    "Кышында балдар мектепке караңгы көчө менен барууга аргасыз болушат.",
    "Тургундар арыктын суусун ичүүгө колдонушат, бул балдардын ден соолугуна "
    "коркунуч жаратат.",
    "Топтун мүчөлөрү жамаат деңгээлиндеги адвокация боюнча окуудан өтүштү "
    "жана коомдук угууларга катышууга даяр.",
    "Айылдык кеңештин депутаттары жана {street} көчөсүнүн тургундары менен "
    "жолугушуу өткөрүүнү сунуштайбыз.",
    "Өткөн жылы ушундай эле көйгөй коңшу {s2} айылында ийгиликтүү чечилген.",
    "Айыл өкмөтү менен байланыш үчүн топтун катчысы {secretary} жооптуу, "
    "тел. {phone}.",
    "Сиздин түшүнүүңүзгө жана колдооңузга үмүттөнөбүз.",
    "Иштердин аткарылышына мониторингди топ айыл өкмөтүнүн кызматкерлери "
    "менен бирге жүргүзүүгө даяр.",
    "{street} көчөсүндө {n} үй-бүлө жашайт, алардын {k} көп балалуу.",
    "№ {school} мектеп {cap} окуучуга ылайыкталган, бирок анда {n2} ашык "
    "бала окуйт.",
    "Алдын ала смета райондук курулуш башкармалыгынын адисинин жардамы менен "
    "даярдалды.",
]
REVIEW_COMMENTS = [
    "Уточните сумму в смете.", "Добавьте ссылку на решение собрания жителей.",
    "Письмо хорошее, можно отправлять.",
    "Слишком длинно, сократите второй абзац.",
    "Укажите номер и дату протокола собрания.",
    "Проверьте фамилию и инициалы главы айыл окмоту.",
    "Согласовано. Распечатайте на бланке группы и соберите подписи.",
    "Сметаны тактаңыз.", "Макул, жөнөтсөңүз болот.",
    "Чогулуштун протоколунун номерин жазыңыз.",
    "Экинчи абзацты кыскартыңыз.",
]
COMMENTS = [
    "Кечээки жолугушуудан кийин текстти оңдодум.",
    "Посмотрите, пожалуйста, новую версию.",
    "Подписи собрали, фото прикрепила.", "Сметаны кошуп койдум.",
    "Глава АО просил добавить номер протокола.",
    "Завтра отнесём письмо в айыл окмоту.",
    "Текстти орусчага которуп бердим.",
    "Айыл өкмөтүнүн башчысы дүйшөмбүдө кабыл алат.",
]
EVENTS = {
    "training": [
        ("Тренинг «Адвокация на уровне сообщества»", "адвокация", 1),
        ("Жамаат деңгээлиндеги адвокация боюнча тренинг", "адвокация", 1),
        ("Тренинг по составлению обращений в органы МСУ",
         "обращения граждан", 0),
        ("Тренинг по бюджетному процессу МСУ", "бюджет МСУ", 1),
    ],
    "workshop": [
        ("Семинар по организационному развитию ИГ",
         "организационное развитие", 0),
        ("Воркшоп: определение нужд сообщества", "определение нужд", 0),
        ("Семинар «Приоритизация проблем сообщества»", "приоритизация", 0),
        ("Уюштуруучулук өнүгүү боюнча семинар", "уюштуруучулук өнүгүү", 0),
    ],
    "meeting": [
        ("Встреча с главой айыл окмоту", "бюджет МСУ", 0),
        ("Собрание инициативной группы", "план адвокации", 0),
        ("Айыл өкмөтү менен жолугушуу", "жергиликтүү бюджет", 0),
    ],
    "consultation": [
        ("Консультация по подготовке письма", "обращения граждан", 0),
        ("Консультация по смете проекта", "смета", 0),
    ],
}
ACTION_OUTCOMES = [
    "Встреча состоялась, глава АО обещал рассмотреть вопрос.",
    "Письмо зарегистрировано в АО, вх. № {k}.",
    "Вопрос включён в повестку сессии айылного кенеша.",
    "Статья опубликована в районной газете.", "Собрано {k} подписей.",
    "Жолугушуу өттү, башчы маселени кароого убада берди.",
    "Маселе айылдык кеңештин сессиясынын күн тартибине киргизилди.",
]
RESPONSES = [
    ("positive", "Средства предусмотрены в бюджете на {year2} год."),
    ("partial", "Работы будут проведены частично во {q} квартале."),
    ("refusal", "Отказано в связи с отсутствием средств в бюджете."),
    ("referral", "Вопрос передан в районную государственную администрацию."),
    ("positive", "Каражат {year2}-жылдын бюджетине киргизилди."),
]
OUTCOMES = [
    ("budget_allocation", "Бюджет АО на {year2} г., статья {k}"),
    ("decision", "Решение айылного кенеша № {k} от {date}"),
    ("practice_change", "Приказ главы АО № {k}"),
    ("local_regulation", "Положение, утверждённое сессией АК № {k}"),
]
STAFF = ["Айнура Токтосунова", "Нурлан Асанов", "Гүлнара Мамытова",
         "Эрмек Садыков", "Жылдыз Бакирова", "Марат Жумабаев",
         "Чынара Осмонова", "Самат Кадыров"]
CENTRAL_STAFF = ["Асель Турдубаева (центр)", "Данияр Рысбеков (центр)",
                 "Елена Ковалёва (центр)"]

TABLE_ORDER = ["office", "authority", "cig", "person", "vulnerability",
               "membership", "need", "plan", "action", "letter",
               "letter_version", "letter_review", "letter_response", "outcome",
               "event", "attendance", "comment"]

BISHKEK = datetime.timezone(datetime.timedelta(hours=6))
T_INITIAL = datetime.datetime(2026, 1, 12, 9, 0, tzinfo=BISHKEK)
T_EDIT = datetime.datetime(2026, 2, 16, 9, 0, tzinfo=BISHKEK)
DAY0 = datetime.date(2024, 1, 1)  # earliest programme date


def ms_of(dt):
    return int(dt.timestamp() * 1000)


class Clock:
    """An office's working clock: it advances by the seconds a person takes
    to type a record, within working hours (09:00-18:00 Bishkek time,
    Monday to Friday)."""

    def __init__(self, start, rng):
        self.ms = ms_of(start)
        self.rng = rng

    def tick(self, lo_s, hi_s):
        self.ms += self.rng.between(lo_s * 1000, hi_s * 1000)
        t = datetime.datetime.fromtimestamp(self.ms / 1000, BISHKEK)
        if t.hour >= 18 or t.weekday() >= 5:
            d = t.date() + datetime.timedelta(days=1)
            while d.weekday() >= 5:
                d += datetime.timedelta(days=1)
            t = datetime.datetime(d.year, d.month, d.day, 9, 0, tzinfo=BISHKEK)
            self.ms = ms_of(t) + self.rng.between(0, 40 * 60 * 1000)
        return self.ms

    def date(self):
        return datetime.datetime.fromtimestamp(self.ms / 1000,
                                               BISHKEK).date()


def uuid7(ms, rng):
    """A UUIDv7 as common/id.c writes it: 48-bit ms, version 7, 12 random
    bits, variant 10, 62 random bits; lowercase."""
    ra = rng.below(1 << 12)
    rb = rng.u64() >> 2
    return "%08x-%04x-7%03x-%x%03x-%012x" % (
        ms >> 16, ms & 0xFFFF, ra, 0x8 | (rb >> 60), (rb >> 48) & 0xFFF,
        rb & 0xFFFFFFFFFFFF)


def iso(d):
    return d.isoformat()


def add_days(s, n):
    return iso(datetime.date.fromisoformat(s) + datetime.timedelta(days=n))


def clamp_date(d, lo, hi):
    return max(lo, min(hi, d))


def female_form(family):
    for a, b in (("ов", "ова"), ("ев", "ева"), ("ёв", "ёва"), ("ин", "ина")):
        if family.endswith(a):
            return family[:-len(a)] + b
    return family


def patronymic(father, female):
    if father.endswith("й"):
        stem = father[:-1] + "ев"
    else:
        stem = father + "ов"
    return stem + ("на" if female else "ич")


def sql_value(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


# ---- one office ---------------------------------------------------------------


class Office:
    def __init__(self, seed, index, scale):
        self.seed = seed
        self.index = index
        place = PLACES[index % len(PLACES)]
        self.code = place[0] if index < 2 else "O%02d" % (index + 1)
        self.node = self.code.lower()
        (_, self.name_ru, self.name_ky, self.name_en, self.oblast, self.rayon,
         self.settlements, self.minority) = place
        self.scale = scale
        self.rng = Rng("workload", seed, self.code, "initial")
        self.clock = Clock(T_INITIAL, self.rng)
        self.rows = {}       # table -> {id: row} (live, current values)
        self.ids = {t: [] for t in TABLE_ORDER}  # in creation order
        self.initial_ids = set()
        self.initial_rows = {}  # (table, id) -> row at the end of it
        self.ops_initial = []
        self.ops_edit = []
        self.edited = set()     # (table, id, field) the office's edits set
        self.deleted = set()    # (table, id) the office deleted
        self.edit_new = set()   # (table, id) created in the edit phase
        self.members = {}       # cig id -> [person ids]
        self.chair = {}         # cig id -> person id
        self.secretary = {}
        self.letter_versions = {}  # letter id -> [version ids]
        self.staff = [STAFF[(index * 3 + k) % len(STAFF)] for k in range(3)]
        self.counts = {"initial": {}, "edit_inserted": {}, "edit_deleted": {},
                       "edit_field_edits": 0, "edit_field_edits_by_table": {}}

    def n(self, base, minimum=1):
        return max(minimum, int(round(base * self.scale)))

    # -- operations

    def insert(self, ops, table, row, phase_key, lo=8, hi=60):
        at = self.clock.tick(lo, hi)
        rid = uuid7(at, self.rng)
        full = {"office_id": self.code}
        full.update({k: v for k, v in row.items() if v is not None})
        self.rows.setdefault(table, {})[rid] = dict(full)
        self.ids[table].append(rid)
        c = self.counts[phase_key]
        c[table] = c.get(table, 0) + 1
        ops.append({"op": "insert", "table": table, "id": rid, "by": self.node,
                    "at": at, "row": full})
        return rid

    def update(self, table, rid, field, value, lo=5, hi=45):
        at = self.clock.tick(lo, hi)
        row = self.rows[table][rid]
        assert row.get(field) != value, (table, field, value)
        if value is None:
            row.pop(field, None)
        else:
            row[field] = value
        self.edited.add((table, rid, field))
        self.counts["edit_field_edits"] += 1
        bt = self.counts["edit_field_edits_by_table"]
        bt[table] = bt.get(table, 0) + 1
        self.ops_edit.append({"op": "update", "table": table, "id": rid,
                              "by": self.node, "at": at, "field": field,
                              "value": value})

    def delete(self, table, rid):
        at = self.clock.tick(5, 30)
        del self.rows[table][rid]
        self.deleted.add((table, rid))
        c = self.counts["edit_deleted"]
        c[table] = c.get(table, 0) + 1
        self.ops_edit.append({"op": "delete", "table": table, "id": rid,
                              "by": self.node, "at": at})

    # -- values

    def person_name(self, female):
        r = self.rng
        x = r.u64() % 1000 / 1000.0
        if x < self.minority:
            given = r.choice(UZ_FEMALE if female else UZ_MALE)
            family = r.choice(UZ_FAMILY)
            father = r.choice(UZ_MALE)
        elif x > 0.96:
            given = r.choice(RU_FEMALE if female else RU_MALE)
            family = r.choice(RU_FAMILY)
            father = r.choice(RU_MALE)
        else:
            given = r.choice(FEMALE if female else MALE)
            family = r.choice(FAMILY)
            father = r.choice(MALE)
            if r.chance(0.08):  # "Асан уулу" / "Асан кызы"
                return (father + (" кызы" if female else " уулу"), given,
                        None)
        if female:
            family = female_form(family)
        pat = patronymic(father, female) if r.chance(0.8) else None
        return family, given, pat

    def phone(self):
        r = self.rng
        p = r.choice(PREFIXES)
        d = "%06d" % r.below(1000000)
        style = r.below(4)
        if style == 0:
            return "+996 %s %s %s %s" % (p, d[:2], d[2:4], d[4:])
        if style == 1:
            return "0%s %s" % (p, d)
        if style == 2:
            return "+996%s%s" % (p, d)
        return "0 (%s) %s-%s-%s" % (p, d[:2], d[2:4], d[4:])

    def date_between(self, lo, hi):
        span = (hi - lo).days
        return iso(lo + datetime.timedelta(days=self.rng.between(0, span)))

    def short_name(self, pid):
        p = self.rows["person"].get(pid)
        if p is None:
            return self.rng.choice(self.staff)
        return "%s %s" % (p.get("given_name", ""), p.get("family_name", ""))

    def fill(self, text, extra=None):
        values = self.fill_values()
        if extra:
            values.update(extra)
        return text.format(**values)

    def fill_values(self):
        r = self.rng
        return {
            "street": r.choice(STREETS), "k": r.between(1, 60),
            "s": r.choice(self.settlements), "s2": r.choice(self.settlements),
            "n": r.between(12, 480), "n2": r.between(300, 900),
            "m": r.between(7, 25), "votes": r.between(9, 140),
            "year": r.between(2019, 2025), "year2": r.choice([2026, 2027]),
            "sum": "{:,}".format(r.between(40, 2400) * 1000).replace(",", " "),
            "part": "{:,}".format(r.between(5, 200) * 1000).replace(",", " "),
            "date": self.date_between(datetime.date(2025, 3, 1),
                                      datetime.date(2025, 12, 20)),
            "school": r.between(1, 12), "cap": r.between(200, 600),
            "q": r.choice(["II", "III", "IV"]), "phone": self.phone(),
            "cig": "", "need": "", "secretary": "",
        }

    def letter_body(self, lang, ctx, sentences=None):
        """A letter of 300-2,000 characters: a header, sentences, a
        closing.  Returns (text, sentence indexes) so that a later version
        can revise it."""
        r = self.rng
        pool = RU_SENTENCES if lang == "ru" else KY_SENTENCES
        official = ctx["official"]
        if lang == "ru":
            head = ("Главе %s\n%s\nот инициативной группы «%s»\nс. %s\n\n"
                    "ОБРАЩЕНИЕ\n\nУважаемый %s!\n\n" % (
                        ctx["authority"], official, ctx["cig"], ctx["s"],
                        official.split()[0]))
            tail = ("\n\nС уважением,\nпредседатель инициативной группы "
                    "«%s»\n%s\n%s" % (ctx["cig"], ctx["chair"], ctx["date"]))
        else:
            head = ("%s башчысы\n%s мырзага\n«%s» демилгелүү тобунан\n%s "
                    "айылы\n\nКАЙРЫЛУУ\n\nУрматтуу %s!\n\n" % (
                        ctx["authority"], official, ctx["cig"], ctx["s"],
                        official.split()[0]))
            tail = ("\n\nУрматтоо менен,\n«%s» демилгелүү тобунун "
                    "төрагасы\n%s\n%s" % (ctx["cig"], ctx["chair"],
                                          ctx["date"]))
        extra = {"cig": ctx["cig"], "need": ctx["need"],
                 "secretary": ctx["secretary"], "s": ctx["s"]}
        if sentences is None:
            target = r.between(300, 1750)
            order = r.shuffle(list(range(len(pool))))
            chosen = []
            length = len(head) + len(tail)
            for i in order:
                s = self.fill(pool[i], extra)
                chosen.append((i, s))
                length += len(s) + 1
                if length >= target:
                    break
        else:
            chosen = list(sentences)

            def unused():
                used = {i for i, _ in chosen}
                free = [i for i in range(len(pool)) if i not in used]
                return r.choice(free) if free else r.below(len(pool))
            # a revision: 1-3 sentences reworded, sometimes one more
            for _ in range(r.between(1, 3)):
                j = r.below(len(chosen))
                i = unused()
                chosen[j] = (i, self.fill(pool[i], extra))
            if r.chance(0.5):
                i = unused()
                chosen.insert(r.below(len(chosen) + 1),
                              (i, self.fill(pool[i], extra)))
        while True:
            paras, cur = [], []
            for k, (_, s) in enumerate(chosen):
                cur.append(s)
                if len(cur) >= 3 or k == len(chosen) - 1:
                    paras.append(" ".join(cur))
                    cur = []
            text = head + "\n\n".join(paras) + tail
            if len(text) > 2000 and len(chosen) > 1:
                chosen.pop()
                continue
            if len(text) < 300:
                used = {i for i, _ in chosen}
                i = r.choice([i for i in range(len(pool)) if i not in used]
                             or list(range(len(pool))))
                chosen.append((i, self.fill(pool[i], extra)))
                continue
            return text, chosen

    # -- the initial phase

    def build_initial(self):
        r = self.rng
        ops = self.ops_initial
        key = "initial"
        self.insert(ops, "office", {
            "code": self.code, "name_ky": self.name_ky,
            "name_ru": self.name_ru, "name_en": self.name_en,
            "oblast": self.oblast, "rayon": self.rayon,
            "settlement": self.settlements[0], "kind": "regional"}, key)
        # authorities
        auth = []
        n_auth = self.n(5, 3)
        for k in range(n_auth):
            s = self.settlements[k % len(self.settlements)]
            if k == 0:
                kind, name = "rayon_administration", (
                    "%s районная государственная администрация" % (
                        self.rayon[:-2] + "ая"))
            elif k % 2 == 1:
                kind = "aiyl_okmotu"
                name = r.choice(["%s айыл өкмөтү" % s,
                                 "Айыл окмоту с. %s" % s])
            else:
                kind = "aiyl_kenesh"
                name = "%s айылдык кеңеши" % s
            auth.append(self.insert(ops, "authority", {
                "kind": kind, "name": name,
                "address": "ул. %s, %d, с. %s" % (r.choice(STREETS),
                                                 r.between(1, 80), s)}, key))
        self.authorities = auth
        # CIGs
        cigs = []
        for k in range(self.n(15)):
            s = r.choice(self.settlements)
            name = CIG_NAMES[(self.index * 7 + k) % len(CIG_NAMES)]
            if k >= len(CIG_NAMES) or r.chance(0.5):
                name = "%s (%s)" % (name, s)
            cigs.append(self.insert(ops, "cig", {
                "name": name, "settlement": s,
                "formed_on": self.date_between(datetime.date(2023, 3, 1),
                                               datetime.date(2025, 6, 30)),
                "status": r.weighted([("active", 60), ("forming", 20),
                                      ("dormant", 15), ("closed", 5)]),
                "focus": r.choice(FOCUS)}, key, 60, 300))
        self.cigs = cigs
        # persons, each a member of one CIG (10 per CIG at scale 1)
        n_person = self.n(150)
        persons = []
        for k in range(n_person):
            female = r.chance(0.58)
            family, given, pat = self.person_name(female)
            by = r.weighted([(r.between(1958, 1969), 2),
                             (r.between(1970, 1989), 4),
                             (r.between(1990, 2007), 5)])
            cig = cigs[k % len(cigs)]
            persons.append(self.insert(ops, "person", {
                "family_name": family, "given_name": given, "patronymic": pat,
                "sex": "female" if female else "male", "birth_year": by,
                "phone": self.phone() if r.chance(0.9) else None,
                "settlement": self.rows["cig"][cig]["settlement"]}, key, 20,
                90))
            self.members.setdefault(cig, []).append(persons[-1])
        self.persons = persons
        # vulnerabilities (restricted: stay with the office and central)
        for pid in r.sample(persons, self.n(15)):
            p = self.rows["person"][pid]
            cat = "youth" if p["birth_year"] >= 2000 else r.weighted([
                ("female_headed_household",
                 5 if p.get("sex") == "female" else 0),
                ("disability", 3), ("returning_migrant", 3),
                ("older_person", 2 if p["birth_year"] < 1966 else 0),
                ("ethnic_minority", 6 * self.minority), ("other", 1)])
            self.insert(ops, "vulnerability", {
                "person_id": pid, "category": cat,
                "recorded_on": self.date_between(datetime.date(2025, 1, 10),
                                                 datetime.date(2026, 1, 9))},
                key)
        # memberships
        for cig in cigs:
            formed = datetime.date.fromisoformat(
                self.rows["cig"][cig]["formed_on"])
            for j, pid in enumerate(self.members.get(cig, [])):
                role = "chair" if j == 0 else ("secretary" if j == 1
                                               else "member")
                joined = self.date_between(formed, formed +
                                           datetime.timedelta(days=200))
                left = None
                if role == "member" and r.chance(0.05):
                    left = add_days(joined, r.between(60, 400))
                self.insert(ops, "membership", {
                    "cig_id": cig, "person_id": pid, "role": role,
                    "joined_on": joined, "left_on": left}, key, 5, 20)
                if role == "chair":
                    self.chair[cig] = pid
                elif role == "secretary":
                    self.secretary[cig] = pid
        # needs: 2 per CIG, the first one prioritised
        self.needs = {}
        self.need_titles = {}  # need id -> {"ru": title, "ky": title}
        for k in range(self.n(30)):
            cig = cigs[k % len(cigs)]
            ru, ky, sector = r.choice(NEEDS)
            lang = r.choice(["ru", "ky"])
            vals = self.fill_values()
            titles = {"ru": ru.format(**vals), "ky": ky.format(**vals)}
            title = titles[lang]
            rank = len(self.needs.get(cig, [])) + 1
            nid = self.insert(ops, "need", {
                "cig_id": cig, "title": title,
                "description": self.fill(r.choice(
                    RU_SENTENCES[1:6] if lang == "ru" else KY_SENTENCES[1:6]),
                    {"need": title}),
                "sector": sector,
                "identified_on": self.date_between(datetime.date(2025, 2, 1),
                                                   datetime.date(2025, 10, 1)),
                "method": r.choice(NEED_METHODS), "priority_rank": rank,
                "votes": r.between(5, 60),
                "status": "in_plan" if rank == 1 else r.weighted([
                    ("identified", 3), ("prioritised", 5), ("dropped", 1)])},
                key, 30, 120)
            self.needs.setdefault(cig, []).append(nid)
            self.need_titles[nid] = titles
        # plans: 1 per CIG at scale 1, each with 4 actions
        self.plans = []
        for k in range(self.n(15)):
            cig = cigs[k % len(cigs)]
            need = self.needs.get(cig, [None])[0]
            start = self.date_between(datetime.date(2025, 4, 1),
                                      datetime.date(2025, 11, 1))
            pid = self.insert(ops, "plan", {
                "cig_id": cig, "need_id": need,
                "objective": "Добиться: %s" % (
                    self.rows["need"][need]["title"] if need else "—"),
                "authority_id": r.choice(auth[1:] or auth), "start_on": start,
                "end_on": add_days(start, r.between(120, 365)),
                "status": r.weighted([("active", 5), ("in_progress", 5),
                                      ("draft", 2), ("achieved", 1),
                                      ("partially_achieved", 1),
                                      ("not_achieved", 1)])}, key, 60, 240)
            self.plans.append(pid)
        per_plan = max(1, int(round(self.n(60) / len(self.plans))))
        for pid in self.plans:
            plan = self.rows["plan"][pid]
            members = self.members.get(plan["cig_id"]) or persons
            day = plan["start_on"]
            for j in range(per_plan):
                day = add_days(day, r.between(7, 40))
                done = day < "2026-01-05" and r.chance(0.7)
                status = "done" if done else r.weighted([
                    ("planned", 6), ("in_progress", 3), ("cancelled", 1)])
                self.insert(ops, "action", {
                    "plan_id": pid,
                    "kind": ["meeting", "letter", "hearing", "council_session",
                             "media", "petition"][(j + r.below(2)) % 6],
                    "planned_on": day,
                    "done_on": add_days(day, r.between(0, 6)) if done
                    else None,
                    "status": status,
                    "responsible_person_id": r.choice(members),
                    "outcome": self.fill(r.choice(ACTION_OUTCOMES)) if done
                    else None}, key, 20, 90)
        # letters, their versions and reviews
        self.letters = []
        n_letters = self.n(20)
        n_versions = self.n(40)
        for k in range(n_letters):
            pid = self.plans[k % len(self.plans)]
            plan = self.rows["plan"][pid]
            cig = plan["cig_id"]
            lang = r.weighted([("ru", 6 if self.minority > 0.2 else 3),
                               ("ky", 3 if self.minority > 0.2 else 6)])
            status = r.weighted([("draft", 3), ("in_review", 3),
                                 ("changes_requested", 2), ("approved", 2),
                                 ("sent", 4), ("answered", 2), ("closed", 1)])
            sent = None
            if status in ("sent", "answered", "closed"):
                sent = self.date_between(datetime.date(2025, 6, 1),
                                         datetime.date(2026, 1, 9))
            need_title = self.need_titles[plan["need_id"]][lang] \
                if plan.get("need_id") else r.choice(NEEDS)[0]
            subject = (("Обращение по вопросу: %s" if lang == "ru"
                        else "%s маселеси боюнча кайрылуу") % need_title)
            lid = self.insert(ops, "letter", {
                "cig_id": cig, "plan_id": pid,
                "authority_id": plan["authority_id"], "subject": subject,
                "language": lang, "status": status, "sent_on": sent,
                "outgoing_no": ("№ %d/%02d" % (r.between(1, 60),
                                               r.between(1, 12)))
                if sent else None,
                "response_due_on": add_days(sent, 14) if sent else None},
                key, 60, 300)
            self.letters.append(lid)
            self.letter_versions[lid] = []
        # versions: every letter one, the rest spread round the letters
        for k in range(n_versions):
            lid = self.letters[k % n_letters]
            self.new_letter_version(ops, lid, key)
        # reviews of most versions that went past draft
        for lid in self.letters:
            status = self.rows["letter"][lid]["status"]
            vs = self.letter_versions[lid]
            if status == "draft":
                continue
            for j, vid in enumerate(vs):
                last = j == len(vs) - 1
                decision = "approve" if last and status not in (
                    "in_review", "changes_requested") else "changes_requested"
                if last and status == "in_review":
                    continue
                self.insert(ops, "letter_review", {
                    "letter_version_id": vid,
                    "reviewer": r.choice(self.staff),
                    "decision": decision,
                    "comment": r.choice(REVIEW_COMMENTS)}, key, 30, 200)
        # responses and outcomes of the letters that were answered
        for lid in self.letters:
            letter = self.rows["letter"][lid]
            if letter["status"] in ("answered", "closed"):
                kind, summary = r.choice(RESPONSES)
                self.insert(ops, "letter_response", {
                    "letter_id": lid,
                    "received_on": add_days(letter["sent_on"],
                                            r.between(5, 30)),
                    "kind": kind, "summary": self.fill(summary)}, key)
                if kind == "positive":
                    okind, ev = r.choice(OUTCOMES)
                    self.insert(ops, "outcome", {
                        "plan_id": letter["plan_id"], "letter_id": lid,
                        "kind": okind,
                        "adopted_on": add_days(letter["sent_on"],
                                               r.between(20, 60)),
                        "evidence": self.fill(ev)}, key)
        # events and attendance (15 per event at scale 1)
        self.events = []
        n_att = self.n(300)
        n_events = self.n(20)
        for k in range(n_events):
            self.new_event(ops, key, datetime.date(2024, 10, 1),
                           datetime.date(2026, 1, 9))
        per_event = max(1, n_att // n_events)
        extra = n_att - per_event * n_events
        for k, eid in enumerate(self.events):
            self.attend(ops, eid, per_event + (1 if k < extra else 0), key)
        # comments on letter versions (the WhatsApp threads)
        for vid in r.sample(self.ids["letter_version"], self.n(10)):
            self.insert(ops, "comment", {
                "target_table": "letter_version", "target_id": vid,
                "author": r.choice(self.staff + [self.short_name(
                    r.choice(persons))]),
                "body": r.choice(COMMENTS)}, key, 30, 200)
        for t in TABLE_ORDER:
            for rid in self.ids[t]:
                self.initial_ids.add((t, rid))
                self.initial_rows[(t, rid)] = dict(self.rows[t][rid])

    def new_letter_version(self, ops, lid, key):
        r = self.rng
        letter = self.rows["letter"][lid]
        cig = letter["cig_id"]
        plan = self.rows["plan"][letter["plan_id"]]
        vs = self.letter_versions[lid]
        if not hasattr(self, "_sentences"):
            self._sentences = {}
        ctx = {
            "authority": self.rows["authority"][letter["authority_id"]]
            ["name"],
            "cig": self.rows["cig"][cig]["name"],
            "s": self.rows["cig"][cig]["settlement"],
            "chair": self.short_name(self.chair.get(cig)),
            "secretary": self.short_name(self.secretary.get(cig)),
            "need": (self.need_titles[plan["need_id"]][letter["language"]]
                     if plan.get("need_id") else "—"),
            "date": iso(self.clock.date()),
            "official": self.__dict__.setdefault("officials", {}).setdefault(
                lid, "%s %s" % (r.choice(MALE), r.choice(FAMILY))),
        }
        prev = vs[-1] if vs else None
        body, sentences = self.letter_body(
            letter["language"], ctx,
            self._sentences.get(prev) if prev else None)
        vid = self.insert(ops, "letter_version", {
            "letter_id": lid, "version_no": len(vs) + 1, "body": body,
            "author": r.choice([ctx["chair"], ctx["secretary"],
                                r.choice(self.staff)]),
            "based_on_version_id": prev}, key, 300, 1800)
        self._sentences[vid] = sentences
        vs.append(vid)
        return vid

    def new_event(self, ops, key, lo, hi):
        r = self.rng
        kind = r.weighted([("training", 8), ("workshop", 6), ("meeting", 4),
                           ("consultation", 2)])
        title, topic, two_days = r.choice(EVENTS[kind])
        cig = r.choice(self.cigs) if r.chance(0.7) else None
        start = self.date_between(lo, hi)
        eid = self.insert(ops, "event", {
            "kind": kind, "title": title, "topic": topic, "cig_id": cig,
            "settlement": (self.rows["cig"][cig]["settlement"] if cig
                           else self.settlements[0]),
            "start_on": start,
            "end_on": add_days(start, 1) if two_days else start,
            "facilitator": r.choice(self.staff)}, key, 60, 300)
        self.events.append(eid)
        return eid

    def attend(self, ops, eid, count, key):
        r = self.rng
        ev = self.rows["event"][eid]
        pool = list(self.members.get(ev.get("cig_id"), []))
        others = [p for p in self.persons if p not in pool]
        chosen = r.sample(pool, count) + r.sample(others,
                                                  max(0, count - len(pool)))
        att = self.__dict__.setdefault("attendees", {})
        have = att.setdefault(eid, set())
        for pid in chosen:
            if pid in have:
                continue
            have.add(pid)
            done = ev["kind"] == "training" and r.chance(0.85) or \
                ev["kind"] != "training" and r.chance(0.95)
            role = r.weighted([("participant", 30), ("official", 1),
                               ("facilitator", 0.3)])
            self.insert(ops, "attendance", {
                "event_id": eid, "person_id": pid, "completed": 1 if done
                else 0, "role": role}, key, 5, 15)

    # -- the edit phase

    def field_value(self, table, rid, field, rng, avoid):
        """A new value for one field, different from every value in
        avoid; None if it cannot find one."""
        row = self.rows[table].get(rid, {})
        r = rng
        cur = row.get(field)
        for _ in range(20):
            v = self._value(table, row, field, cur, r)
            if v not in avoid:
                return v
        return None

    def _value(self, table, row, field, cur, r):
        enums = {
            ("cig", "status"): ["forming", "active", "dormant", "closed"],
            ("need", "status"): ["identified", "prioritised", "in_plan",
                                 "addressed", "dropped"],
            ("plan", "status"): ["draft", "active", "in_progress", "achieved",
                                 "partially_achieved", "not_achieved",
                                 "dropped"],
            ("action", "status"): ["planned", "in_progress", "done",
                                   "cancelled"],
            ("letter", "status"): ["draft", "in_review", "changes_requested",
                                   "approved", "sent", "answered", "closed"],
            ("membership", "role"): ["chair", "secretary", "member"],
            ("attendance", "role"): ["participant", "facilitator",
                                     "official"],
            ("letter_review", "decision"): ["approve", "changes_requested"],
            ("vulnerability", "category"): [
                "disability", "youth", "older_person",
                "female_headed_household", "returning_migrant",
                "ethnic_minority", "other"],
        }
        if (table, field) in enums:
            vals = enums[(table, field)]
            if field == "status" and cur in vals and r.chance(0.7):
                i = vals.index(cur)  # usually the next step
                return vals[min(i + 1, len(vals) - 1)]
            return r.choice(vals)
        if field == "completed":
            return 0 if cur == 1 else 1
        if field == "phone":
            return self.phone()
        if field in ("formed_on", "identified_on", "joined_on", "left_on",
                     "start_on", "end_on", "planned_on", "done_on", "sent_on",
                     "response_due_on", "recorded_on", "received_on"):
            base = cur or "2026-02-16"
            d = add_days(base, r.choice([-1, 1]) * r.between(1, 30))
            return clamp_date(d, "2024-01-01", "2027-12-31")
        if field == "birth_year":
            v = (cur or 1985) + r.choice([-1, 1]) * r.between(1, 3)
            return max(1940, min(2008, v))
        if field == "priority_rank":
            return r.between(1, 6)
        if field == "votes":
            return (cur or 0) + r.between(1, 15)
        if field == "focus":
            return r.choice(FOCUS)
        if field == "settlement":
            return r.choice(self.settlements)
        if field == "family_name":
            fam, _, _ = self.person_name(row.get("sex") == "female")
            return fam
        if field == "patronymic":
            return patronymic(r.choice(MALE), row.get("sex") == "female")
        if field == "name":
            return "%s (%s)" % (r.choice(CIG_NAMES), r.choice(
                self.settlements))
        if field == "description":
            return self.fill(r.choice(RU_SENTENCES[1:8]),
                             {"need": row.get("title", "")})
        if field == "objective":
            return "Добиться: %s" % self.fill(r.choice(NEEDS)[0])
        if field == "outcome":
            return self.fill(r.choice(ACTION_OUTCOMES))
        if field == "responsible_person_id":
            plan = self.rows["plan"].get(row.get("plan_id"), {})
            return r.choice(self.members.get(plan.get("cig_id")) or
                            self.persons)
        if field == "outgoing_no":
            return "№ %d/%02d" % (r.between(1, 99), r.between(1, 12))
        if field == "subject":
            return "Повторное обращение: %s" % self.fill(r.choice(NEEDS)[0])
        if field == "facilitator":
            return r.choice(self.staff + STAFF)
        if field == "title":
            return r.choice(EVENTS[row.get("kind", "training")])[0]
        if field == "topic":
            return r.choice(["адвокация", "бюджет МСУ", "смета",
                             "обращения граждан", "публичные слушания"])
        if field == "comment":
            return r.choice(REVIEW_COMMENTS)
        raise AssertionError((table, field))

    # (table, field, weight): what office staff change, how often
    OFFICE_FIELDS = [
        ("cig", "status", 3), ("cig", "focus", 2), ("cig", "name", 0.5),
        ("person", "phone", 6), ("person", "settlement", 1),
        ("person", "family_name", 1), ("person", "birth_year", 1),
        ("person", "patronymic", 0.5),
        ("membership", "role", 2), ("membership", "left_on", 1.5),
        ("need", "status", 4), ("need", "priority_rank", 3),
        ("need", "votes", 3), ("need", "description", 1.5),
        ("plan", "status", 3), ("plan", "end_on", 2),
        ("plan", "objective", 1),
        ("action", "status", 6), ("action", "done_on", 4),
        ("action", "planned_on", 3), ("action", "outcome", 2),
        ("action", "responsible_person_id", 1),
        ("letter", "status", 6), ("letter", "sent_on", 2),
        ("letter", "outgoing_no", 2), ("letter", "response_due_on", 2),
        ("letter", "subject", 1),
        ("event", "start_on", 2), ("event", "end_on", 1),
        ("event", "facilitator", 1), ("event", "title", 1),
        ("event", "topic", 0.5),
        ("attendance", "completed", 12), ("attendance", "role", 1),
        ("letter_review", "comment", 0.5),
        ("letter_review", "decision", 0.5),
        ("vulnerability", "category", 0.3),
    ]

    def build_edit(self):
        self.rng = Rng("workload", self.seed, self.code, "edit")
        self.clock = Clock(T_EDIT, self.rng)
        r = self.rng
        key = "edit_inserted"
        ops = self.ops_edit
        initial_total = len(self.initial_ids)
        n_edits = 14 * (len(self.cigs) + len(self.plans) + len(self.letters) +
                        len(self.events))
        # new records: about 10% of the initial ones
        plan_new = [("letter_version", 0.14), ("letter_review", 0.09),
                    ("comment", 0.07), ("person", 0.12), ("event", 0.025),
                    ("attendance", 0.35), ("action", 0.06),
                    ("letter_response", 0.035), ("need", 0.03),
                    ("membership", 0.08)]
        n_new = max(1, int(round(initial_total * 0.10)))
        news = []
        for t, share in plan_new:
            news += [t] * max(1, int(round(n_new * share)))
        # person inserts bring their membership; keep the total near n_new
        news = [t for t in news if t != "membership"]
        n_del = max(1, int(round(initial_total * 0.02)))
        steps = ["upd"] * n_edits + news + ["del"] * n_del
        r.shuffle(steps)
        for step in steps:
            if step == "upd":
                self.edit_one()
            elif step == "del":
                self.delete_one()
            else:
                self.new_one(step, key)
        # every new record is known for central's choice (it does not
        # touch them: central has not seen them yet)

    def live(self, table):
        return [i for i in self.ids[table] if i in self.rows[table]]

    def edit_one(self):
        r = self.rng
        for _ in range(50):
            table, field, _ = r.weighted([((t, f, w), w) for t, f, w in
                                          self.OFFICE_FIELDS])
            ids = self.live(table)
            if not ids:
                continue
            rid = r.choice(ids)
            cur = self.rows[table][rid].get(field)
            v = self.field_value(table, rid, field, r, {cur})
            if v is None:
                continue
            self.update(table, rid, field, v)
            return
        raise AssertionError("no field to edit")

    def delete_one(self):
        r = self.rng
        table = r.weighted([("attendance", 7), ("membership", 3)])
        cands = [i for i in self.live(table)
                 if not (table == "membership" and
                         self.rows[table][i].get("role") != "member")]
        if not cands:
            table = "attendance"
            cands = self.live(table)
        self.delete(table, r.choice(cands))

    def new_one(self, table, key):
        r = self.rng
        ops = self.ops_edit
        today = self.clock.date()
        if table == "letter_version":
            lid = r.choice(self.letters)
            vid = self.new_letter_version(ops, lid, key)
            self.edit_new.add(("letter_version", vid))
            return
        if table == "letter_review":
            vid = r.choice([self.letter_versions[lid][-1]
                            for lid in self.letters])
            rid = self.insert(ops, "letter_review", {
                "letter_version_id": vid, "reviewer": r.choice(self.staff),
                "decision": r.choice(["approve", "changes_requested"]),
                "comment": r.choice(REVIEW_COMMENTS)}, key, 30, 200)
        elif table == "comment":
            rid = self.insert(ops, "comment", {
                "target_table": "letter_version",
                "target_id": r.choice(self.live("letter_version")),
                "author": r.choice(self.staff), "body": r.choice(COMMENTS)},
                key, 30, 200)
        elif table == "person":
            female = r.chance(0.58)
            family, given, pat = self.person_name(female)
            cig = r.choice(self.cigs)
            rid = self.insert(ops, "person", {
                "family_name": family, "given_name": given,
                "patronymic": pat, "sex": "female" if female else "male",
                "birth_year": r.between(1960, 2007), "phone": self.phone(),
                "settlement": self.rows["cig"][cig]["settlement"]}, key, 20,
                90)
            self.persons.append(rid)
            self.edit_new.add(("person", rid))
            self.members.setdefault(cig, []).append(rid)
            mid = self.insert(ops, "membership", {
                "cig_id": cig, "person_id": rid, "role": "member",
                "joined_on": iso(today)}, key, 5, 20)
            self.edit_new.add(("membership", mid))
            return
        elif table == "event":
            rid = self.new_event(ops, key, today,
                                 today + datetime.timedelta(days=30))
            self.edit_new.add(("event", rid))
            n0 = len(self.ops_edit)
            self.attend(ops, rid, r.between(8, 15), key)
            for op in self.ops_edit[n0:]:
                self.edit_new.add((op["table"], op["id"]))
            return
        elif table == "attendance":
            eid = r.choice(self.events)
            n0 = len(self.ops_edit)
            self.attend(ops, eid, 1, key)
            for op in self.ops_edit[n0:]:
                self.edit_new.add((op["table"], op["id"]))
            return
        elif table == "action":
            pid = r.choice(self.plans)
            plan = self.rows["plan"][pid]
            rid = self.insert(ops, "action", {
                "plan_id": pid,
                "kind": r.choice(["meeting", "letter", "hearing", "media",
                                  "petition", "council_session"]),
                "planned_on": iso(today + datetime.timedelta(
                    days=r.between(3, 60))),
                "status": "planned",
                "responsible_person_id": r.choice(
                    self.members.get(plan["cig_id"]) or self.persons)},
                key, 20, 90)
        elif table == "letter_response":
            lid = r.choice(self.letters)
            kind, summary = r.choice(RESPONSES)
            rid = self.insert(ops, "letter_response", {
                "letter_id": lid, "received_on": iso(today), "kind": kind,
                "summary": self.fill(summary)}, key)
        elif table == "need":
            cig = r.choice(self.cigs)
            ru, ky, sector = r.choice(NEEDS)
            rid = self.insert(ops, "need", {
                "cig_id": cig, "title": self.fill(ru), "sector": sector,
                "identified_on": iso(today),
                "method": r.choice(NEED_METHODS), "votes": r.between(3, 40),
                "status": "identified"}, key, 30, 120)
        else:
            raise AssertionError(table)
        self.edit_new.add((table, rid))


# ---- central ------------------------------------------------------------------

CENTRAL_FIELDS = [
    ("letter", "status", 8), ("letter", "outgoing_no", 1),
    ("letter", "response_due_on", 1), ("plan", "status", 4),
    ("plan", "end_on", 2), ("cig", "status", 3), ("cig", "focus", 1),
    ("need", "status", 2), ("need", "priority_rank", 1),
    ("event", "facilitator", 2), ("event", "title", 1),
    ("event", "start_on", 1), ("action", "status", 3),
    ("action", "done_on", 1), ("person", "phone", 2),
    ("person", "birth_year", 1), ("attendance", "completed", 5),
    ("letter_review", "comment", 1),
]


def build_central(seed, offices, scale):
    """Central's edits of each office's initial records (what its replica
    holds after the initial phase): a third on a (row, field) that the
    office also sets in its edit phase, the rest elsewhere; a few deletes
    of attendance rows nobody else touches."""
    rng = Rng("workload", seed, "CEN", "edit")
    clock = Clock(T_EDIT, rng)
    ops = []
    summary = {}
    for o in offices:
        n_edits = max(1, int(round(100 * scale)))
        n_conc = n_edits // 3
        n_del = max(1, int(round(2 * scale)))
        central = {}  # (table, id, field) -> central's current value

        def view(t, rid, f):
            if (t, rid, f) in central:
                return central[(t, rid, f)]
            return o.initial_rows[(t, rid)].get(f)

        eligible = sorted(
            k for k in o.edited
            if (k[0], k[1]) in o.initial_ids and (k[0], k[1]) not in o.deleted
            and k[2] not in ("office_id",))
        saved_rng = o.rng
        o.rng = rng  # value helpers draw from central's generator
        # the concurrent ones: a value other than the one central sees,
        # and if possible other than the office's final one too (a
        # two-valued field such as attendance.completed may agree)
        conc = []
        for k in rng.shuffle(list(eligible)):
            if len(conc) == n_conc:
                break
            t, rid, f = k
            row = o.initial_rows[(t, rid)]
            cur = row.get(f)
            best = None
            for _ in range(20):
                v = o._value(t, row, f, cur, rng)
                if v == cur:
                    continue
                best = v
                if v != o.rows[t][rid].get(f):
                    break
            if best is not None:
                conc.append((k, best))
        jobs = [("conc", k) for k in conc]
        jobs += [("own", None)] * (n_edits - len(conc))
        rng.shuffle(jobs)
        done_conc = 0
        touched = set()
        made = 0
        for kind, k in jobs:
            if kind == "conc":
                (t, rid, f), v = k
                done_conc += 1
            else:
                for _ in range(200):
                    t, f, _ = rng.weighted([((a, b, w), w) for a, b, w in
                                            CENTRAL_FIELDS])
                    ids = [i for i in o.ids[t] if (t, i) in o.initial_ids
                           and (t, i) not in o.deleted]
                    if not ids:
                        continue
                    rid = rng.choice(ids)
                    if (t, rid, f) in o.edited or (t, rid, f) in touched:
                        continue
                    row = o.initial_rows[(t, rid)]
                    v = o._value(t, row, f, view(t, rid, f), rng)
                    if v == view(t, rid, f):
                        continue
                    break
                else:
                    raise AssertionError("central: no field to edit")
            at = clock.tick(20, 120)
            central[(t, rid, f)] = v
            touched.add((t, rid, f))
            made += 1
            ops.append({"op": "update", "table": t, "id": rid, "by": "cen",
                        "at": at, "field": f, "value": v})
        # deletes: attendance rows neither the office nor central touched
        busy = {(t, rid) for t, rid, _ in o.edited} | {
            (t, rid) for t, rid, _ in touched} | o.deleted
        cands = [i for i in o.ids["attendance"]
                 if ("attendance", i) in o.initial_ids
                 and ("attendance", i) not in busy]
        dels = rng.sample(cands, n_del)
        for rid in dels:
            at = clock.tick(20, 120)
            ops.append({"op": "delete", "table": "attendance", "id": rid,
                        "by": "cen", "at": at})
        o.rng = saved_rng
        summary[o.code] = {"field_edits": made, "concurrent_edits": done_conc,
                           "deletes": len(dels)}
    return ops, summary


# ---- output --------------------------------------------------------------------


def sql_lines(ops):
    out = ["BEGIN;"]
    for op in ops:
        t = op["table"]
        if op["op"] == "insert":
            cols = ["id"] + list(op["row"].keys())
            vals = [sql_value(op["id"])] + [sql_value(v)
                                            for v in op["row"].values()]
            out.append("INSERT INTO %s(%s) VALUES (%s);" % (
                t, ", ".join(cols), ", ".join(vals)))
        elif op["op"] == "update":
            out.append("UPDATE %s SET %s = %s WHERE id = %s;" % (
                t, op["field"], sql_value(op["value"]), sql_value(op["id"])))
        else:
            out.append("DELETE FROM %s WHERE id = %s;" % (
                t, sql_value(op["id"])))
    out.append("COMMIT;")
    return "\n".join(out) + "\n"


def json_lines(ops):
    return "".join(json.dumps(op, ensure_ascii=False,
                              separators=(",", ":")) + "\n" for op in ops)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main(argv):
    ap = argparse.ArgumentParser(
        description="Deterministic workload of cigsync offices (see the "
                    "module docstring).")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--offices", type=int, default=6)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if a.offices < 1 or a.offices > 999:
        ap.error("--offices: 1 to 999")
    if not 0 < a.scale <= 100:
        ap.error("--scale: more than 0, at most 100")
    offices = []
    for i in range(a.offices):
        o = Office(a.seed, i, a.scale)
        o.build_initial()
        o.build_edit()
        offices.append(o)
    cen_ops, cen_summary = build_central(a.seed, offices, a.scale)
    init_all, edit_all = [], []
    summary = {"seed": a.seed, "offices": a.offices, "scale": a.scale,
               "per_office": {}, "central": {"by_office": cen_summary}}
    for o in offices:
        write(os.path.join(a.out, o.code, "initial.sql"),
              sql_lines(o.ops_initial))
        write(os.path.join(a.out, o.code, "edit.sql"), sql_lines(o.ops_edit))
        init_all += o.ops_initial
        edit_all += o.ops_edit
        c = o.counts
        summary["per_office"][o.code] = {
            "node": o.node,
            "initial": {"inserted": c["initial"],
                        "records": sum(c["initial"].values())},
            "edit": {"inserted": c["edit_inserted"],
                     "records_inserted": sum(c["edit_inserted"].values()),
                     "field_edits": c["edit_field_edits"],
                     "field_edits_by_table": c["edit_field_edits_by_table"],
                     "deleted": c["edit_deleted"],
                     "deletes": sum(c["edit_deleted"].values())},
        }
    write(os.path.join(a.out, "CEN", "edit.sql"), sql_lines(cen_ops))
    edit_all += cen_ops
    write(os.path.join(a.out, "initial.jsonl"), json_lines(init_all))
    write(os.path.join(a.out, "edit.jsonl"), json_lines(edit_all))
    tot = summary["central"]
    tot["field_edits"] = sum(v["field_edits"] for v in cen_summary.values())
    tot["concurrent_edits"] = sum(v["concurrent_edits"]
                                  for v in cen_summary.values())
    tot["deletes"] = sum(v["deletes"] for v in cen_summary.values())
    summary["totals"] = {
        "initial_records": sum(v["initial"]["records"]
                               for v in summary["per_office"].values()),
        "edit_records_inserted": sum(
            v["edit"]["records_inserted"]
            for v in summary["per_office"].values()),
        "edit_field_edits": sum(v["edit"]["field_edits"]
                                for v in summary["per_office"].values()),
        "edit_deletes": sum(v["edit"]["deletes"]
                            for v in summary["per_office"].values()),
        "central_field_edits": tot["field_edits"],
        "central_concurrent_edits": tot["concurrent_edits"],
        "central_deletes": tot["deletes"],
        "initial_ops": len(init_all), "edit_ops": len(edit_all),
    }
    write(os.path.join(a.out, "summary.json"),
          json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) +
          "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
