"""Word lists for believable Japanese demo companies and people (all fictional)."""

from __future__ import annotations

COMPANY_STEMS = (
    "さくら", "みらい", "あおば", "ひかり", "東都", "北斗", "大和", "富士", "明星", "青葉",
    "朝日", "新星", "光陽", "双葉", "瑞穂", "若葉", "千代田", "浪速", "筑紫", "白樺",
    "常盤", "葵", "翠", "暁", "銀河",
)
COMPANY_TRADES = (
    "製作所", "商事", "物流", "電機", "システムズ", "ホールディングス", "食品", "建設",
    "不動産", "薬品", "工業", "テクノロジーズ", "ソリューションズ", "メディカル", "フーズ",
    "印刷", "化成", "観光", "教育サービス", "リテール",
)
# (kanji, romaji) so the demo e-mail addresses match the names.
FAMILY_NAMES = (
    ("山田", "yamada"), ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"),
    ("田中", "tanaka"), ("伊藤", "ito"), ("渡辺", "watanabe"), ("中村", "nakamura"),
    ("小林", "kobayashi"), ("加藤", "kato"), ("吉田", "yoshida"), ("松本", "matsumoto"),
    ("井上", "inoue"), ("木村", "kimura"), ("林", "hayashi"), ("清水", "shimizu"),
)
GIVEN_NAMES = (
    ("太郎", "taro"), ("花子", "hanako"), ("健", "ken"), ("美咲", "misaki"), ("翔太", "shota"),
    ("陽菜", "hina"), ("大輔", "daisuke"), ("彩", "aya"), ("拓也", "takuya"), ("由美", "yumi"),
    ("直樹", "naoki"), ("恵", "megumi"), ("誠", "makoto"), ("裕子", "yuko"),
)
TITLES = (
    "情報システム部 部長", "経営企画室 室長", "営業企画部 マネージャー", "DX推進室 リーダー",
    "総務部 課長", "カスタマーサポート部 部長", "マーケティング部 主任", "代表取締役",
)
MOVED_TO = ("営業本部へ異動", "関連会社へ出向", "退職", "経営企画室へ異動", None)
PLANS = {"high": "エンタープライズ", "low": "スタンダード", "tech": "ライト"}
DEMO_CSMS = ("U0DEMOCSM1", "U0DEMOCSM2", "U0DEMOCSM3", "U0DEMOCSM4", "U0DEMOCSM5")
# Reason codes match cs.kpis' avoidable list (couldnt_use, low_usage, no_roi) and others.
AVOIDABLE_REASONS = ("couldnt_use", "low_usage", "no_roi")
OTHER_REASONS = ("budget_cut", "business_closed", "merged", "switched_competitor")
