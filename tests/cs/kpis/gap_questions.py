"""Hand-labelled unanswered questions: each inner list asks one thing in different words.

Shared by the clustering test and bench/gap_clusters.py (which compares the embedder).
"""

GROUPS: list[list[str]] = [
    ["請求書の宛名を変更したい", "請求書の宛名を変更する方法は？", "請求書 宛名 変更",
     "インボイスの宛先を変えたい"],
    ["請求書を発行できますか？", "請求書の発行方法"],
    ["CSVでデータをエクスポートできますか？", "データをCSVエクスポートしたい",
     "打刻データをCSVで出力したい"],
    ["How do I reset my password?", "reset password", "Password reset how to",
     "I forgot my password"],
    ["シングルサインオンに対応していますか", "SAMLのシングルサインオンは使えますか",
     "SSOは使えますか"],
    ["スマホアプリはありますか？", "iPhoneのアプリはありますか", "モバイルアプリで打刻したい"],
    ["ログインできない", "ログインができません", "サインインできない"],
    ["有給休暇の残日数を確認したい", "有休の残りを見る方法", "有給の残日数はどこで見られますか"],
    ["Can I export to Excel?", "export data to excel", "Excel export"],
    ["ユーザーを追加できますか？", "メンバーを招待したい"],
]
