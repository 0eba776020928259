"""The default stages of the account manager's work cycle, each with its playbook.

An administrator may rename, reorder, add and retire them afterwards (Settings → Stages).
"""

from django.db import migrations

# key, English, Japanese, kind, description, [(step, 手順, requirement, required)]
DEFAULT_STAGES = [
    (
        "first_contact",
        "First contact",
        "初回接触",
        "open",
        "A first call or meeting with the company; find the person who decides.",
        [
            ("Contact person identified", "担当者を特定した", "contact", True),
            ("Company researched (size, business, current supplier)", "企業調査（規模・事業・現取引先）", "manual", False),
        ],
    ),
    (
        "appointment",
        "Appointment booked",
        "アポイント獲得",
        "open",
        "A phone appointment or meeting is in the calendar.",
        [
            ("Appointment booked in the calendar", "アポイントを予定に登録した", "appointment", True),
            ("Agenda sent to the customer", "アジェンダを送付した", "manual", False),
        ],
    ),
    (
        "meeting",
        "Meeting and negotiation",
        "面談・商談",
        "open",
        "Meet, learn the situation, agree what happens next.",
        [
            ("Meeting logged", "面談記録を残した", "meeting", True),
            ("Decision maker and process known", "決裁者と決裁プロセスを把握した", "manual", False),
        ],
    ),
    (
        "needs",
        "Needs identified",
        "ニーズ把握",
        "open",
        "What the customer needs, in their words; which of our lines fit.",
        [
            ("Needs recorded", "ニーズを記録した", "needs", True),
            ("Expected close date set", "受注予定日を設定した", "close_date", True),
        ],
    ),
    (
        "presentation",
        "Presentation",
        "提案・プレゼンテーション",
        "open",
        "Present the products that answer the needs, with their advantages.",
        [
            ("Products added to the deal", "商品を商談に追加した", "products", True),
            ("Presentation held", "提案を実施した", "manual", True),
        ],
    ),
    (
        "objections",
        "Objections handled",
        "反論処理",
        "open",
        "Hear the objections and answer each one.",
        [
            ("Objections logged", "反論・懸念を記録した", "objections", True),
            ("Quote issued", "見積書を発行した", "quote", False),
        ],
    ),
    (
        "contract",
        "Contract",
        "契約",
        "open",
        "Terms agreed, contract drafted and signed.",
        [
            ("Quote issued", "見積書を発行した", "quote", True),
            ("Contract terms agreed", "契約条件に合意した", "manual", True),
        ],
    ),
    ("won", "Won", "受注", "won", "The customer signed: hand over to orders and contracts.", []),
    ("lost", "Lost", "失注", "lost", "Record why, and who won.", []),
]


def create_stages(apps, schema_editor):
    Stage = apps.get_model("pipeline", "Stage")
    PlaybookStep = apps.get_model("pipeline", "PlaybookStep")
    if Stage.objects.exists():
        return
    for position, (key, name, name_ja, kind, description, steps) in enumerate(DEFAULT_STAGES):
        stage = Stage.objects.create(
            key=key,
            name=name,
            name_ja=name_ja,
            kind=kind,
            position=(position + 1) * 10,
            description=description,
        )
        for step_position, (text, text_ja, requirement, required) in enumerate(steps):
            PlaybookStep.objects.create(
                stage=stage,
                position=(step_position + 1) * 10,
                text=text,
                text_ja=text_ja,
                requirement=requirement,
                required=required,
            )


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_initial")]

    operations = [migrations.RunPython(create_stages, migrations.RunPython.noop)]
