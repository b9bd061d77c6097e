"""The words of measure explanations and risk details, in Japanese (default) and English."""

from __future__ import annotations

LANGS = ("ja", "en")

TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "no_data": "{label}: データなし (スコア対象外)",
        "label.active_ratio": "アクティブ率",
        "label.seat_trend": "アクティブ率の推移",
        "login.never": "ログイン記録なし (契約開始から {waited}日)",
        "login": "最終ログイン {days}日前 (満点 {full:g}日以内, 0点 {zero:g}日以上)",
        "active_ratio": "アクティブ率 {ratio:.0%} ({active}/{seats}席, 満点 {full:.0%}以上)",
        "setup": "セットアップ進捗 {progress}%",
        "seat_trend": "アクティブ率 30日前 {before:.0%} → 現在 {ratio:.0%} "
                      "({points:+d}ポイント, 0点 -{drop:.0%})",
        "contact.none": "主担当者の変更なし",
        "contact": "主担当者の変更 {days}日前 (満点 {full:g}日以上)",
        "risk.low_health": "ヘルススコア {score}",
        "risk.no_login.never": "ログイン記録なし (契約開始から {waited}日, 基準 {limit}日)",
        "risk.no_login": "最終ログイン {days}日前 (基準 {limit}日)",
        "risk.setup_stalled": "セットアップ進捗 {before}% → {now}% ({days}日間), "
                              "問い合わせ {inquiries}件",
        "risk.contact_changed": "主担当者が {days}日前に変更",
        "risk.seats_falling": "アクティブ率 {before:.0%} → {ratio:.0%} (30日間)",
    },
    "en": {
        "no_data": "{label}: no data (left out of the score)",
        "label.active_ratio": "Active seats",
        "label.seat_trend": "Active-seat trend",
        "login.never": "Never logged in ({waited} days since contract start)",
        "login": "Last login {days} days ago (full points within {full:g} days, "
                 "none from {zero:g})",
        "active_ratio": "Active seats {ratio:.0%} ({active}/{seats}, full points from {full:.0%})",
        "setup": "Setup {progress}% done",
        "seat_trend": "Active seats {before:.0%} 30 days ago → {ratio:.0%} now "
                      "({points:+d} points, none at -{drop:.0%})",
        "contact.none": "Primary contact unchanged",
        "contact": "Primary contact changed {days} days ago (full points from {full:g} days)",
        "risk.low_health": "Health score {score}",
        "risk.no_login.never": "Never logged in ({waited} days since contract start, "
                               "limit {limit} days)",
        "risk.no_login": "Last login {days} days ago (limit {limit} days)",
        "risk.setup_stalled": "Setup {before}% → {now}% in {days} days, "
                              "{inquiries} inquiries",
        "risk.contact_changed": "Primary contact changed {days} days ago",
        "risk.seats_falling": "Active seats {before:.0%} → {ratio:.0%} in 30 days",
    },
}


def text(lang: str, key: str, **values: object) -> str:
    try:
        template = TEXTS[lang][key]
    except KeyError:
        raise ValueError(f"no text {key!r} for language {lang!r} (use one of {LANGS})") from None
    return template.format(**values)
