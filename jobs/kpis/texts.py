"""Words of the digests and App Home in Japanese and English (the rules' `jobs.lang` picks)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "vs_prev": "前期比 {delta}",
        "logo_churn": "ロゴ解約率", "mrr_churn": "MRR解約率", "avoidable": "回避可能な解約",
        "new_back": "新規 / 復帰", "live": "稼働アカウント", "per_csm": "CSMあたり",
        "tta": "アラート確認までの時間", "median": "中央値", "prev_median": "前期 中央値",
        "deflection": "FAQ自己解決率", "unanswered_rate": "未回答率",
        "logos": "{n}社",
        "band.at_risk": "要注意", "band.middle": "普通", "band.healthy": "良好",
        "touch.high": "ハイタッチ", "touch.low": "ロータッチ", "touch.tech": "テックタッチ",
        "points": "{n}点", "owner": "担当 {owner}", "unowned": "担当者未設定",
        "no_risk": "リスク信号なし", "list_sep": "、",
        "cs_title": "📊 週次CSダイジェスト ({start}〜{end} の{days}日)",
        "warning": "⚠ 解約率が警戒ライン {line}/月 を超えています。",
        "attention": "*今週注目すべきアカウント*", "none": "該当なし",
        "cs_footer": "前期: {start}〜{end}。月次の推移とヘルス分布は続けて投稿するグラフを"
                     "ご覧ください。`banso report` で詳細。",
        "cs_text": "週次CSダイジェスト: ロゴ解約率 {logo}, NRR {nrr}",
        "cur_title": "📚 週次ナレッジ改善レポート ({start}〜{end})",
        "gaps": "*未回答の質問* ({n}件、似た質問をまとめて表示)", "no_gaps": "なし 🎉",
        "downvoted": "*👎が多いエントリ*", "deleted": "(削除済み)", "nothing": "なし",
        "stale": "*{months}か月以上更新されていないエントリ* ({n}件)", "undated": "更新日なし",
        "more": "ほか {n}件",
        "drafts": "*レビュー待ちの下書き* ({n}件)",
        "cur_text": "週次ナレッジ改善レポート: 未回答 {n}件",
    },
    "en": {
        "vs_prev": "vs last period {delta}",
        "logo_churn": "Logo churn", "mrr_churn": "MRR churn", "avoidable": "Avoidable churn",
        "new_back": "New / reactivated", "live": "Live accounts", "per_csm": "per CSM",
        "tta": "Time to acknowledge", "median": "median", "prev_median": "last period median",
        "deflection": "FAQ deflection", "unanswered_rate": "Unanswered",
        "logos": "{n}",
        "band.at_risk": "at risk", "band.middle": "middle", "band.healthy": "healthy",
        "touch.high": "high-touch", "touch.low": "low-touch", "touch.tech": "tech-touch",
        "points": "{n} pts", "owner": "owner {owner}", "unowned": "no owner",
        "no_risk": "no risk signal", "list_sep": "; ",
        "cs_title": "📊 Weekly CS digest ({start}–{end}, {days} days)",
        "warning": "⚠ Churn is above the {line}/month warning line.",
        "attention": "*Accounts needing attention this week*", "none": "none",
        "cs_footer": "Last period: {start}–{end}. The chart that follows shows the monthly "
                     "trend and the health bands; `banso report` has the details.",
        "cs_text": "Weekly CS digest: logo churn {logo}, NRR {nrr}",
        "cur_title": "📚 Weekly knowledge curation ({start}–{end})",
        "gaps": "*Unanswered questions* ({n}, similar ones grouped)", "no_gaps": "none 🎉",
        "downvoted": "*Most down-voted entries*", "deleted": "(deleted)", "nothing": "none",
        "stale": "*Entries not updated for {months}+ months* ({n})", "undated": "no date",
        "more": "{n} more",
        "drafts": "*Drafts waiting for review* ({n})",
        "cur_text": "Weekly knowledge curation: {n} unanswered",
    },
}


def tr(lang: str, key: str, **values: object) -> str:
    texts = TEXTS.get(lang, TEXTS["ja"])
    return texts.get(key, TEXTS["ja"][key]).format(**values)
