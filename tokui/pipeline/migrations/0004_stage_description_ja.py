"""Stage descriptions in Japanese too; the default stages get theirs (unless already written)."""

from django.db import migrations, models

DEFAULT_DESCRIPTIONS_JA = {
    "first_contact": "企業への最初の電話や訪問。決裁に関わる人を見つけます。",
    "appointment": "電話アポイントまたは面談の予定が入っています。",
    "meeting": "面談して状況を把握し、次の進め方を合意します。",
    "needs": "お客様のニーズをお客様の言葉で記録し、合う製品ラインを見極めます。",
    "presentation": "ニーズに応える製品を、その強みとともに提案します。",
    "objections": "反論・懸念を聞き、一つずつ答えます。",
    "contract": "条件に合意し、契約書を作成して締結します。",
    "won": "お客様が契約しました。受注・契約へ引き継ぎます。",
    "lost": "理由と、受注した競合を記録します。",
}


def fill_descriptions(apps, schema_editor):
    Stage = apps.get_model("pipeline", "Stage")
    for key, text in DEFAULT_DESCRIPTIONS_JA.items():
        Stage.objects.filter(key=key, description_ja="").update(description_ja=text)


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0003_deal_title_label")]

    operations = [
        migrations.AddField(
            model_name="stage",
            name="description_ja",
            field=models.TextField(
                blank=True, verbose_name="what happens in this stage (Japanese)"
            ),
        ),
        migrations.RunPython(fill_descriptions, migrations.RunPython.noop),
    ]
