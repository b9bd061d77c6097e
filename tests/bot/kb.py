"""A small hand-made knowledge base for the bot's tests (Japanese first, English too)."""

from __future__ import annotations

from retrieval.models import Entry, Visibility

PASSWORD = Entry(
    id="password-reset",
    title="パスワードを忘れました。再設定するには?",
    aliases=("パスワードをリセットしたい", "パスワード変更のやり方"),
    body="ログイン画面の **「パスワードをお忘れの方」** から再設定できます。\n\n"
         "1. 登録済みのメールアドレスを入力して送信します。\n"
         "2. 届いたメールのリンクを開き、新しいパスワードを2回入力します。\n\n"
         "詳しくは [ヘルプセンター](https://help.example.com/password) をご覧ください。",
    links=("https://help.example.com/shiftora/password-reset",),
    path="faq/password-reset.md",
)
INVOICE = Entry(
    id="invoice-download",
    title="請求書をダウンロードする方法は?",
    aliases=("請求書の発行", "領収書がほしい"),
    body="管理画面の **[設定] → [請求]** から、月ごとの請求書 PDF をダウンロードできます。",
    links=("https://help.example.com/shiftora/invoice",),
    path="faq/invoice-download.md",
)
EXPORT_EN = Entry(
    id="csv-export",
    title="How do I export timesheets to CSV?",
    aliases=("export attendance data", "download timesheet csv"),
    body="Open **Reports → Timesheets**, pick the period and press *Export CSV*.\n\n"
         "- One row per staff member and day\n- UTF-8 with BOM, so Excel opens it",
    lang="en",
    links=("https://help.example.com/shiftora/csv-export",),
    path="faq/csv-export.md",
)
REFUND_INTERNAL = Entry(
    id="refund-policy-internal",
    title="返金に応じる社内基準は?",
    aliases=("二重請求の返金処理", "返金の承認は誰がする?"),
    body="**社内限定。** 原則として支払い済みの利用料は返金しません。"
         "二重請求は全額返金、障害で丸1日以上使えなかった場合は日割りで減額します。",
    visibility=Visibility.INTERNAL,
    links=("https://wiki.example.com/billing/refunds",),
    path="faq/refund-policy-internal.md",
)
SHIFT = Entry(
    id="shift-template",
    title="シフトのテンプレートを作るには?",
    aliases=("シフト表の雛形", "シフトパターンの登録"),
    body="[シフト] → [テンプレート] で、曜日ごとの勤務パターンを保存できます。",
    path="faq/shift-template.md",
)
RULES_LONG = Entry(
    id="work-rules-full",
    title="就業規則の勤怠に関する条文をすべて見たい",
    aliases=("就業規則 全文",),
    body="\n\n".join(
        f"## 第{i}条\n\n**勤怠の記録**については、[規程 {i}](https://help.example.com/rules/{i}) "
        + "を参照し、始業・終業の時刻を正しく打刻してください。" * 12
        for i in range(1, 60)
    ),
    links=("https://help.example.com/shiftora/work-rules",),
    path="faq/work-rules-full.md",
)
ENTRIES = [PASSWORD, INVOICE, EXPORT_EN, REFUND_INTERNAL, SHIFT, RULES_LONG]
