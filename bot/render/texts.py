"""The bot's fixed texts, in Simplified Chinese (Telegram HTML where tags appear)."""

from __future__ import annotations

HELP_TEXT = (
    "<b>住建报告问答助手</b>\n"
    "我会在局里的工作总结、工作计划和会议讲话中查找与您问题最相关的段落，"
    "并注明出处（文件、年份、章节）。\n\n"
    "直接发送问题即可，例如：\n"
    "• 加装电梯累计完成了多少台？\n"
    "• 保租房今年筹集了多少套？\n\n"
    "命令：\n"
    "/ask 问题 — 提问（群聊中使用）\n"
    "/target 关键词 — 查数字和目标，可加年份或“计划”“完成”，如 /target 加装电梯 2022（简写 /t）\n"
    "/help — 查看本说明\n\n"
    "答案下方的按钮可以翻页（更多结果）、查看段落前后文（上下文），并用 👍 👎 反馈答案是否有用。"
)
ADMIN_HELP_TEXT = (
    "\n\n<b>管理员命令</b>\n"
    "/reload — 重新读取语料目录中的报告\n"
    "直接发送 .txt / .docx / .pdf 文件 — 添加或替换报告\n"
    "/docs — 查看已索引的报告\n"
    "/remove 文件名 — 移除一份报告（移到“已移除”文件夹，不删除）\n"
    "/stats — 提问统计、热门问题和没找到答案的问题"
)
ADMIN_ONLY_TEXT = "这个操作仅限管理员使用。如需重新加载或上传报告，请联系管理员。"
UPLOAD_ADMIN_ONLY_TEXT = "只有管理员可以上传报告。如有新报告，请发给管理员。"
UPLOAD_TOO_BIG_FOR_BOT_API_TEXT = (
    "Telegram 只允许机器人下载 20 MB 以内的文件，请把文件直接放入服务器的语料目录后发送 /reload"
)
UNKNOWN_COMMAND_TEXT = "没有这个命令。直接发送问题即可提问，发送 /help 查看用法。"
EMPTY_QUESTION_TEXT = "请在命令后写上问题，例如：/ask 加装电梯完成了多少台"
TARGET_USAGE_TEXT = "请在命令后写上要查的指标，例如：/target 加装电梯 或 /t 保租房 2022"
REMOVE_USAGE_TEXT = "请写上要移除的文件名，例如：/remove 2022年工作总结.docx（用 /docs 查看文件名）"
APOLOGY_TEXT = "抱歉，处理您的消息时出错了，请稍后再试。如果一直出错，请联系管理员。"
REDACTED_MARK = "（原文数字已脱敏）"
NO_PERMISSION_TEXT = "您没有使用本机器人的权限。"
BUTTON_EXPIRED_TEXT = "这个按钮已失效，请重新提问。"
ANSWER_EXPIRED_TEXT = "这条问答记录已过期，请重新提问。"
PASSAGE_CHANGED_TEXT = "这段内容已随报告更新而变化，请重新提问。"
THANKS_UP_TEXT = "感谢反馈！"
THANKS_DOWN_TEXT = "感谢反馈，我们会改进。"
RELOAD_STARTED_TEXT = "正在重新加载报告……"
RELOAD_FAILED_PREFIX = "重新加载失败，仍在使用原来的索引："
STATS_CSV_NAME = "近7天提问记录.csv"
STATS_CSV_CAPTION = "近 7 天的提问记录（可用 Excel 打开）"


def question_too_long(length: int, limit: int) -> str:
    """Return the refusal of a question over ``limit`` characters."""
    return f"问题太长（{length} 字）。请把问题精简到 {limit} 字以内，只写想查的事项，例如“加装电梯完成了多少台”。"


def keyword_too_long(length: int) -> str:
    """Return the refusal of a /target keyword that is too long."""
    return f"关键词太长（{length} 字），请只写要查的指标，例如“加装电梯”。"


def rate_limited_button(wait: int) -> str:
    """Return the short answer to a button pressed too often."""
    return f"操作太频繁，请 {wait} 秒后再试。"
